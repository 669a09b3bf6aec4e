"""Inbound mail through fakes: the corpus of awkward mail, each with its documented outcome, and threading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from services.channels import mail
from services.channels.intake import Consumer, Intake, Unfileable, bare_subject, case_reference
from tests.unit.channels.fakes import FakeCases, FakeConsumers, FakeStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANN = Consumer("c-ann", "Ann Lee", "en")


def message(
    body="My oat clusters had a piece of blue plastic in them.",
    *,
    subject="Plastic in my cereal",
    sender="Ann Lee <ann@example.com>",
    message_id="<m1@example.com>",
    **headers,
) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "care@crs.localhost"
    m["Subject"] = subject
    m["Message-ID"] = message_id
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(body)
    return m.as_bytes()


@pytest.fixture
def parts():
    store = FakeStore(now=NOW)
    cases = FakeCases()
    intake = Intake(
        store=store,
        cases=cases,
        consumers=FakeConsumers({"ann@example.com": ANN}),
        own_domain="crs.localhost",
        window=timedelta(days=14),
        clock=lambda: NOW,
    )
    return intake, store, cases


async def test_a_new_email_opens_a_case_for_the_consumer_it_came_from(parts):
    intake, store, cases = parts
    outcome = await intake.receive(message())
    assert outcome.created and outcome.reference == 1001
    assert cases.opened[0]["consumer"] == ANN
    assert cases.opened[0]["verbatim"] == (
        "Plastic in my cereal\n\nMy oat clusters had a piece of blue plastic in them."
    )
    assert store.raw[outcome.raw_id].startswith(b"From: Ann Lee")


async def test_a_reply_threads_by_in_reply_to(parts):
    intake, _, cases = parts
    first = await intake.receive(message())
    answer = await intake.receive(
        message(
            "Here is the lot code.",
            subject="Something else entirely",
            message_id="<m2@example.com>",
            In_Reply_To="<m1@example.com>",
        )
    )
    assert (answer.case_id, answer.created) == (first.case_id, False)
    assert cases.received_on == [first.case_id]


async def test_a_reply_threads_by_references_when_in_reply_to_is_missing(parts):
    intake, _, _ = parts
    first = await intake.receive(message())
    answer = await intake.receive(
        message(
            "More.", subject="Other", message_id="<m2@example.com>", References="<unknown@x> <m1@example.com>"
        )
    )
    assert answer.case_id == first.case_id


async def test_a_reply_without_headers_threads_by_the_case_reference_in_its_subject(parts):
    intake, _, _ = parts
    first = await intake.receive(message())
    answer = await intake.receive(
        message(
            "Lot L123.",
            subject="RE: Re: Your enquiry [Case 1001]",
            sender="ann@other.example",
            message_id="<m3@example.com>",
        )
    )
    assert (answer.case_id, answer.reference) == (first.case_id, 1001)


async def test_the_same_sender_and_subject_within_the_window_thread(parts):
    intake, store, _ = parts
    first = await intake.receive(message())
    again = await intake.receive(
        message("Any news?", subject="Re: Plastic in my cereal", message_id="<m4@x>")
    )
    assert again.case_id == first.case_id
    for kept in store.messages:
        kept["at"] = NOW - timedelta(days=30)
    late = await intake.receive(message("Again?", subject="Re: Plastic in my cereal", message_id="<m5@x>"))
    assert late.created


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
        ({"Precedence": "bulk"}, "auto_reply"),
        ({"X_CRS_Loop": "crs.localhost"}, "loop"),
    ],
)
async def test_machine_written_mail_never_opens_a_case(parts, headers, reason):
    intake, store, cases = parts
    outcome = await intake.receive(message(**headers))
    assert outcome.rejected == reason
    assert cases.opened == [] and store.rejected[outcome.raw_id][0] == reason


async def test_a_bounce_is_recognised(parts):
    intake, _, cases = parts
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example.com"
    bounce["To"] = "care@crs.localhost"
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = "<bounce1@mx.example.com>"
    bounce.set_content("This is the mail system at host mx.example.com.")
    bounce.add_attachment(
        "Reporting-MTA: dns; mx.example.com\n", subtype="delivery-status", filename="status"
    )
    bounce.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b1"')
    outcome = await intake.receive(bounce.as_bytes())
    assert outcome.rejected == "bounce" and cases.opened == []


async def test_a_bounce_of_our_reply_comes_back_onto_its_case(parts):
    intake, store, cases = parts
    store.messages.append(
        {
            "message_id": "<reply-1@crs.localhost>",
            "case_id": "case-7",
            "reference": 7,
            "direction": "outbound",
            "sender": "care@crs.localhost",
            "thread_subject": "",
            "at": NOW,
        }
    )
    returned = EmailMessage()
    returned["From"], returned["To"] = "care@crs.localhost", "gone@example.com"
    returned["Message-ID"], returned["Subject"] = "<reply-1@crs.localhost>", "Re: Plastic [Case 7]"
    returned.set_content("We are sorry.")
    bounce = EmailMessage()
    bounce["From"], bounce["To"] = "MAILER-DAEMON@mx.example.com", "care@crs.localhost"
    bounce["Subject"], bounce["Message-ID"] = "Undelivered Mail Returned to Sender", "<b2@mx.example.com>"
    bounce.make_mixed()
    bounce.attach(EmailMessage())
    bounce.get_payload(0).set_content("550 5.1.1 gone@example.com: user unknown")
    bounce.add_attachment(returned)
    outcome = await intake.receive(bounce.as_bytes())
    assert outcome.rejected == "bounce" and cases.opened == []
    assert cases.undelivered == [("case-7", "bounced: Undelivered Mail Returned to Sender")]
    assert store.messages[0]["delivery"] == "failed"


async def test_the_same_message_id_twice_makes_one_case(parts):
    intake, _, cases = parts
    await intake.receive(message())
    again = await intake.receive(message())
    assert again.rejected == "duplicate"
    assert len(cases.opened) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: no sender\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n",
        b"From: a@b.example\r\nSubject: no id\r\n\r\nhello\r\n",
        b"\x00\xff\xfe garbage without any headers",
        b"From: =?bogus?Q?=ZZ?= <\r\nMessage-ID: <<<>>>\r\n\r\n",
    ],
)
async def test_malformed_mail_is_rejected_with_its_raw_bytes_kept(parts, raw):
    intake, store, cases = parts
    outcome = await intake.receive(raw)
    assert outcome.rejected == "malformed"
    assert store.raw[outcome.raw_id] == raw and cases.opened == []


def test_an_oversized_message_is_refused_before_it_is_parsed():
    refused = mail.parse(b"x" * (mail.MAX_MESSAGE_BYTES + 1), own_domain="")
    assert (refused.reason, refused.detail) == ("too_large", "26214401 bytes; the limit is 26214400")


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Café crème, déçu"),
        ("shift_jis", "商品に異物が入っていました"),
        ("gb2312", "产品里有异物"),
    ],
)
def test_non_utf8_charsets_are_read(charset, text):
    raw = (
        f"From: a@b.example\r\nMessage-ID: <c@b>\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + text.encode(charset)
    assert mail.parse(raw, own_domain="").body == text


def test_a_body_that_lies_about_its_charset_is_read_with_replacements():
    raw = (
        b"From: a@b.example\r\nMessage-ID: <c@b>\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
        b"\r\nhello \xff there"
    )
    assert mail.parse(raw, own_domain="").body == "hello \ufffd there"


def test_html_only_mail_becomes_text():
    m = EmailMessage()
    m["From"], m["Message-ID"], m["Subject"] = "a@b.example", "<h@b>", "html"
    m.set_content(
        "<html><head><style>p{}</style></head><body><p>The jar was <b>cracked</b>.</p>"
        "<script>alert(1)</script><p>Lot &amp; date: L42</p></body></html>",
        subtype="html",
    )
    assert mail.parse(m.as_bytes(), own_domain="").body == "The jar was cracked.\nLot & date: L42"


def test_nested_multipart_keeps_the_text_and_the_picture():
    m = EmailMessage()
    m["From"], m["Message-ID"], m["Subject"] = "a@b.example", "<n@b>", "nested"
    m.set_content("Plain words.")
    m.add_alternative("<p>Plain words.</p>", subtype="html")
    outer = EmailMessage()
    outer["From"], outer["Message-ID"], outer["Subject"] = "a@b.example", "<n@b>", "nested"
    outer.make_mixed()
    outer.attach(m)
    outer.add_attachment(
        b"\x89PNG\r\n\x1a\n" + b"0" * 10, maintype="image", subtype="png", filename="jar.png"
    )
    parsed = mail.parse(outer.as_bytes(), own_domain="")
    assert parsed.body == "Plain words."
    assert [(a.filename, a.kept, a.size) for a in parsed.attachments] == [("jar.png", True, 18)]


def test_attachments_too_large_of_a_refused_type_or_lying_about_their_type_are_not_kept():
    m = EmailMessage()
    m["From"], m["Message-ID"], m["Subject"] = "a@b.example", "<a@b>", "files"
    m.set_content("See attached.")
    m.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="invoice.exe")
    m.add_attachment(b"MZ\x90\x00", maintype="image", subtype="jpeg", filename="photo.jpg")
    m.add_attachment(
        b"%PDF-" + b"0" * (mail.MAX_ATTACHMENT_BYTES),
        maintype="application",
        subtype="pdf",
        filename="big.pdf",
    )
    parsed = mail.parse(m.as_bytes(), own_domain="")
    assert [(a.filename, a.kept, a.reason) for a in parsed.attachments] == [
        ("invoice.exe", False, "type application/x-msdownload is not allowed"),
        ("photo.jpg", False, "its bytes are not image/jpeg, as it says"),
        ("big.pdf", False, "larger than 10 MiB"),
    ]


def test_subjects_and_references():
    assert case_reference("Re: Your enquiry [Case 1042]") == 1042
    assert case_reference("about case #77") == 77
    assert case_reference("Plastic in my cereal") is None
    assert bare_subject("RE: Fwd: Plastic  in my cereal [Case 9]") == "plastic in my cereal"


async def test_a_message_casework_cannot_take_now_is_marked_deferred_and_the_error_reaches_the_ingress(parts):
    intake, store, cases = parts

    async def down(**_):
        raise ConnectionError("casework is not answering")

    cases.open_case = down
    with pytest.raises(ConnectionError):
        await intake.receive(message())
    assert store.rejected == {1: ("deferred", "ConnectionError: casework is not answering")}
    assert store.messages == []


async def test_a_message_casework_refuses_as_given_is_rejected_for_good_not_retried(parts):
    intake, store, cases = parts

    async def refused(**_):
        raise Unfileable("casework refused the case: reporter.email: not an email address")

    cases.open_case = refused
    outcome = await intake.receive(message())
    assert outcome.rejected == "unfileable"
    assert store.rejected == {
        1: ("unfileable", "casework refused the case: reporter.email: not an email address")
    }
