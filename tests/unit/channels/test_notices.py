"""Notices: email tied to no case. Checked one by one, composed with the RFC 8058 headers, signed over them,
queued once per idempotency key, and delivered in batches over one relay connection."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import dkim
import pytest

from services.channels import mail
from services.channels.dkim_sign import Signer
from services.channels.notices import Attachment, Notice, Notices, Result, compose, refusal
from services.channels.outbound import PermanentFailure, Queued, Sender
from tests.unit.channels.fakes import dkim_key

NOW = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
LINK = "https://care.example/u/t0ken"


def survey(key="survey:1", to="ann@example.com", **changes) -> Notice:
    fields = dict(
        subject="How did we do?", body="Rate us", purpose="survey", language="fr", list_unsubscribe=LINK
    )
    return Notice(key, to, **(fields | changes))


def parsed(mime: bytes):
    return email.message_from_bytes(mime, policy=email.policy.default)


def test_a_notice_carries_the_one_click_unsubscribe_headers_and_its_language():
    sent = parsed(
        compose(survey(html="<p>Rate us</p>"), from_address="care@crs.test", domain="crs.test", now=NOW).mime
    )
    assert sent["List-Unsubscribe"] == f"<{LINK}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (sent["To"], sent["Subject"], sent["Content-Language"]) == (
        "ann@example.com",
        "How did we do?",
        "fr",
    )
    assert sent.get_body(("plain",)).get_content().strip() == "Rate us"
    assert sent.get_body(("html",)).get_content().strip() == "<p>Rate us</p>"
    # Come back as a bounce or an auto-reply, it is the centre's own mail and never a new case.
    assert mail.parse(
        compose(survey(), from_address="c@crs.test", domain="crs.test", now=NOW).mime, own_domain="crs.test"
    ).loop


@pytest.mark.parametrize("subject", ["Bientôt à court ?", "Votre avis compte : " + "é" * 80])
def test_a_subject_in_any_language_is_encoded_and_reads_back_whole(subject):
    mime = compose(
        survey(subject=subject),
        from_address="Service Consommateurs <care@crs.test>",
        domain="crs.test",
        now=NOW,
    ).mime
    assert mime.split(b"\r\n\r\n", 1)[0].isascii()  # the headers, RFC 2047-encoded
    sent = parsed(mime)
    assert (sent["Subject"], sent["From"]) == (subject, "Service Consommateurs <care@crs.test>")
    assert all(len(line) <= 998 for line in mime.split(b"\r\n"))


def test_a_recall_notice_goes_without_unsubscribe_headers():
    recall = Notice("recall:1", "ann@example.com", "Recall of OAT-500", "Do not eat it", "recall")
    sent = parsed(compose(recall, from_address="care@crs.test", domain="crs.test", now=NOW).mime)
    assert (
        refusal(recall) == "" and sent["List-Unsubscribe"] is None and sent["List-Unsubscribe-Post"] is None
    )


@pytest.mark.parametrize(
    ("notice", "reason"),
    [
        (survey(to="not an address"), "to_address: not an email address"),
        (survey(to="ann@localhost"), "to_address"),
        (survey(to="anaïs@example.com"), "to_address"),
        (survey(key=""), "idempotency_key"),
        (survey(purpose="spam"), "purpose: one of service, survey, marketing, recall"),
        (survey(subject="two\nlines"), "subject: one line"),
        (survey(body="  "), "body"),
        (survey(language="not a tag!"), "language"),
        (survey(list_unsubscribe="javascript:alert(1)"), "list_unsubscribe: an http(s) or mailto URL"),
        (survey(list_unsubscribe="https://x.example/a>b"), "list_unsubscribe"),
        (survey(list_unsubscribe=""), "list_unsubscribe: a survey notice carries its one-click unsubscribe"),
    ],
)
def test_a_bad_notice_is_refused_naming_its_field(notice, reason):
    assert refusal(notice).startswith(reason)


def test_the_unsubscribe_headers_are_signed_and_the_signature_verifies():
    pem, dns = dkim_key("crs.test")
    signed = Signer("crs.test", "crs", pem).sign(
        compose(survey(), from_address="c@crs.test", domain="crs.test", now=NOW).mime
    )

    signature = parsed(signed)["DKIM-Signature"]
    assert "list-unsubscribe:list-unsubscribe-post" in signature.replace(" ", "").replace("\r\n", "")
    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(LINK.encode(), b"https://evil.example/u"), dnsfunc=dns)


class FakeNoticeStore:
    def __init__(self):
        self.rows: dict[str, Result] = {}
        self.mimes: dict[str, bytes] = {}

    async def queue(self, notices):
        for notice, composed in notices:
            if notice.idempotency_key not in self.rows:
                self.rows[notice.idempotency_key] = Result(
                    notice.idempotency_key, composed.message_id, "queued"
                )
                self.mimes[notice.idempotency_key] = composed.mime
        return {n.idempotency_key: self.rows[n.idempotency_key] for n, _ in notices}


async def test_a_bad_address_refuses_its_notice_only_and_a_known_key_answers_the_first_result():
    store = FakeNoticeStore()
    desk = Notices(store, from_address="care@crs.test", domain="crs.test", clock=lambda: NOW)
    first, bad = await desk.send([survey("k1"), survey("k2", to="nobody")])
    assert (first.delivery, bad.delivery) == ("queued", "refused")
    assert bad.refusal.startswith("to_address") and not bad.message_id
    assert desk.queued.is_set()
    [again] = await desk.send([survey("k1", subject="Changed")])
    assert again == first and parsed(store.mimes["k1"])["Subject"] == "How did we do?"


class BatchRelay:
    def __init__(self, refuse=(), down_after=None):
        self.refuse, self.down_after, self.delivered = set(refuse), down_after, []

    async def send_batch(self, items):
        errors = []
        for n, item in enumerate(items):
            if self.down_after is not None and n >= self.down_after:
                errors.append(ConnectionResetError("relay gone"))
            elif item.to_address in self.refuse:
                errors.append(PermanentFailure("550 no such user"))
            else:
                self.delivered.append(item.to_address)
                errors.append(None)
        return errors


class FakeNoticeOutbox:
    def __init__(self, items):
        self.items = {i.id: i for i in items}
        self.state, self.retries, self.statements = {}, {}, 0

    async def due(self, *, now, limit):
        return [i for i in self.items.values() if i.id not in self.state and i.id not in self.retries][:limit]

    async def sent_all(self, ids, *, now):
        self.statements += 1
        self.state.update(dict.fromkeys(ids, "sent"))

    async def retry(self, message_id, *, error, at):
        self.retries[message_id] = at

    async def failed(self, message_id, *, error):
        self.state[message_id] = "failed"


def queued(n: int) -> list[Queued]:
    return [Queued(i, "", b"mime", "care@crs.test", f"p{i}@example.com", 0) for i in range(n)]


async def test_a_batch_is_recorded_in_one_statement_and_a_refusal_or_a_lost_connection_settles_only_its_own():
    outbox = FakeNoticeOutbox(queued(6))
    relay = BatchRelay(refuse={"p1@example.com"}, down_after=4)
    assert await Sender(store=outbox, relay=relay, clock=lambda: NOW).deliver_batch(100) == 3
    assert relay.delivered == ["p0@example.com", "p2@example.com", "p3@example.com"]
    assert outbox.statements == 1
    assert outbox.state == {0: "sent", 1: "failed", 2: "sent", 3: "sent"}
    assert set(outbox.retries) == {4, 5}  # still queued, tried again after the retry delay


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


def test_a_notice_with_a_pdf_carries_it_as_an_attachment_beside_the_text():
    digest = Notice("digest:2026-W48:qa:q@corp.example", "q@corp.example", "Weekly digest", "Attached.",
                    "service", attachment=Attachment("digest-2026-W48-qa.pdf", "application/pdf", PDF))  # fmt: skip
    assert refusal(digest) == ""
    message = parsed(compose(digest, from_address="care@crs.test", domain="crs.test", now=NOW).mime)
    [attached] = list(message.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type()) == (
        "digest-2026-W48-qa.pdf",
        "application/pdf",
    )
    assert attached.get_content() == PDF
    assert message.get_body(("plain",)).get_content().strip() == "Attached."


@pytest.mark.parametrize(
    "attachment, reason",
    [
        (Attachment("../x.pdf", "application/pdf", PDF), "attachment.filename"),
        (Attachment("x.exe", "application/x-msdownload", b"MZ"), "attachment.content_type"),
        (Attachment("x.pdf", "application/pdf", b"not a pdf"), "attachment.data"),
        (Attachment("x.pdf", "application/pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024)), "attachment.data"),
    ],
)
def test_an_attachment_that_is_not_a_small_pdf_is_refused(attachment, reason):
    notice = Notice("k", "q@corp.example", "Digest", "Attached.", "service", attachment=attachment)
    assert refusal(notice).startswith(reason)
