"""Fulfillment's letters by email: the checks, the message in the consumer's language with the PDF
attached and threaded on the case, and once per fulfillment however often channels is asked."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime

import pytest

from services.channels import letter_mail
from services.channels.letter_mail import InvalidLetter, LetterEmail
from services.channels.outbound import Thread
from services.channels.service import Channels
from services.channels.store import MessageRow

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PDF = b"%PDF-1.7\n% a letter\n"


def a_letter(**changes) -> LetterEmail:
    fields = dict(
        fulfillment_id=str(uuid.uuid4()),
        case_id=str(uuid.uuid4()),
        to_address="jane@example.test",
        consumer_name="Jane Roe",
        language="en",
        pdf=PDF,
        template="apology",
    )
    return LetterEmail(**(fields | changes))


def parsed(mime: bytes):
    return email.message_from_bytes(mime, policy=email.policy.default)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fulfillment_id": "nope"}, "fulfillment_id"),
        ({"case_id": ""}, "case_id"),
        ({"to_address": "not an address"}, "to_address"),
        ({"to_address": "a@b@c"}, "to_address"),
        ({"pdf": b"GIF89a"}, "pdf"),
        ({"pdf": b"%PDF-" + b"x" * letter_mail.MAX_PDF_BYTES}, "pdf"),
    ],
)
def test_a_letter_that_cannot_go_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidLetter, match=field):
        letter_mail.checked(a_letter(**change))


@pytest.mark.parametrize(
    ("tag", "language"), [("fr-CA", "fr"), ("de", "de"), ("es_MX", "es"), ("ja", "en"), ("", "en")]
)
def test_the_email_is_written_in_the_consumers_language_or_english(tag, language):
    assert letter_mail.checked(a_letter(language=tag)).language == language


def test_each_language_has_its_own_words():
    bodies = {lang: letter_mail.body_text(lang, "Jane Roe") for lang in ("en", "fr", "de", "es")}
    assert len(set(bodies.values())) == 4
    assert bodies["de"].startswith("Guten Tag Jane Roe,")
    assert letter_mail.body_text("en", "").startswith("Hello,")


def test_a_new_conversation_carries_the_case_reference_and_the_pdf():
    letter = letter_mail.checked(a_letter(language="fr", template="apology letter/2"))
    mail = letter_mail.compose(
        letter, thread=None, reference=1234, from_address="care@crs.test", domain="crs.test", now=NOW
    )
    message = parsed(mail.mime)
    assert message["Subject"] == "Notre courrier [Case 1234]"
    assert message["In-Reply-To"] is None
    assert message["X-CRS-Loop"] == "crs.test"
    assert message.get_body(("plain",)).get_content().startswith("Bonjour Jane Roe,")
    (attached,) = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "apology-letter-2.pdf"
    assert attached.get_content() == PDF


def test_a_case_with_an_email_conversation_gets_the_letter_as_its_next_message():
    thread = Thread(
        case_id=str(uuid.uuid4()),
        reference=77,
        consumer_address="jane@example.test",
        subject="Broken kettle",
        last_message_id="<last@example.test>",
        references=("<first@example.test>",),
    )
    mail = letter_mail.compose(
        letter_mail.checked(a_letter()),
        thread=thread,
        reference=77,
        from_address="care@crs.test",
        domain="crs.test",
        now=NOW,
    )
    message = parsed(mail.mime)
    assert message["Subject"] == "Re: Broken kettle [Case 77]"
    assert message["In-Reply-To"] == "<last@example.test>"
    assert message["References"] == "<first@example.test> <last@example.test>"


class LetterStore:
    """Channels' store as SendLetter uses it: one message per fulfillment id."""

    def __init__(self, thread: Thread | None = None):
        self.thread = thread
        self.queued: dict[str, MessageRow] = {}

    async def letter_message(self, fulfillment_id):
        return self.queued.get(fulfillment_id)

    async def thread_for_reply(self, case_id):
        return self.thread

    async def queue_letter(self, letter, mail, *, reference):
        row = MessageRow(
            id=len(self.queued) + 1,
            case_id=letter.case_id,
            direction="outbound",
            message_id=mail.message_id,
            from_address=mail.from_address,
            to_address=mail.to_address,
            subject=mail.subject,
            body=mail.body,
            language=letter.language,
            delivery="queued",
            author=letter_mail.AUTHOR,
            created_at=NOW,
            attempts=0,
            last_error="",
            fulfillment_id=letter.fulfillment_id,
        )
        return self.queued.setdefault(letter.fulfillment_id, row)


class References:
    def __init__(self, known: dict[str, int]):
        self.known = known

    async def reference_of(self, case_id):
        if case_id not in self.known:
            raise LookupError(f"no case {case_id}")
        return self.known[case_id]


def channels_with(store, references) -> Channels:
    return Channels(
        store, from_address="care@crs.test", domain="crs.test", clock=lambda: NOW, cases=references
    )


async def test_asking_twice_queues_the_letter_once():
    letter = a_letter()
    store = LetterStore()
    channels = channels_with(store, References({letter.case_id: 5}))
    first = await channels.send_letter(letter)
    again = await channels.send_letter(letter)
    assert again == first
    assert list(store.queued) == [letter.fulfillment_id]
    assert first.subject == "Our letter to you [Case 5]"
    assert channels.queued.is_set()


async def test_a_letter_for_a_case_casework_does_not_know_is_refused():
    channels = channels_with(LetterStore(), References({}))
    with pytest.raises(LookupError):
        await channels.send_letter(a_letter())
