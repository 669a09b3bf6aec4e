"""Email against real peers: a private Postfix (the MTA) and Dovecot (the consumers' and a hosted mailbox's
provider) on loopback, with the real contacts service and database.

Postfix delivers crs.test to channels' LMTP ingress, and example.com and hosted.test to Dovecot; channels
sends its replies through that Postfix (CRS_SMTP_URL) and reads care@hosted.test over IMAP with IDLE.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import subprocess
from email.message import EmailMessage

import pytest
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2
from prometheus_client import REGISTRY

from services.channels.__main__ import Settings, serve
from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.support.mailpeers import PASSWORD, mail_peers
from tests.support.processes import free_port
from tests.support.wait import async_wait_for

ADA = Principal("ada", "agent", extension="1001", team="north").metadata()
HOSTED = "care@hosted.test"
STALE_SECONDS = 3.0


@pytest.fixture(scope="module")
def peers():
    lmtp_port = free_port()
    with mail_peers(
        crs_domain="crs.test", crs_lmtp_port=lmtp_port, users=("ann@example.com", "cy@example.com", HOSTED)
    ) as (postfix, dovecot):
        yield postfix, dovecot, lmtp_port


@pytest.fixture(scope="module")
async def channels(contacts, peers, database_url):
    postfix, dovecot, lmtp_port = peers
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=f"127.0.0.1:{contacts.bound.grpc_port}",
        smtp_bind="127.0.0.1:0",
        lmtp_bind=f"127.0.0.1:{lmtp_port}",
        smtp_url=f"smtp://127.0.0.1:{postfix.smtp_port}",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=0.2,
        imap_urls=(f"imap://care%40hosted.test:{PASSWORD}@127.0.0.1:{dovecot.imap_port}/INBOX",),
        imap_stale_seconds=STALE_SECONDS,
        imap_idle_seconds=1.0,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{(await ready)['grpc']}", default_deadline=10)
    yield channels_pb2_grpc.ChannelsStub(chan)
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


async def consumer(contacts, name: str, address: str):
    return await contacts.stub.CreateConsumer(
        contacts_pb2.CreateConsumerRequest(
            consumer=contacts_pb2.Consumer(
                name=name, language="en", emails=[contacts_pb2.Email(address=address)]
            )
        ),
        metadata=ADA,
    )


async def cases_of(contacts, consumer_id: str, count: int):
    casework = casework_pb2_grpc.CaseworkStub(contacts.channel)

    async def found():
        listed = await casework.SearchCases(
            casework_pb2.SearchCasesRequest(consumer_id=consumer_id, limit=20), metadata=ADA
        )
        return list(listed.cases) if len(listed.cases) >= count else None

    return await async_wait_for(found, timeout=60, what=f"{count} cases")


def send(port: int, sender: str, to: str, *, subject: str, body: str, message_id: str, **headers) -> None:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, to, subject, message_id
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(m)


def inbox(dovecot, user: str) -> list[EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in dovecot.messages(user)]


async def test_mail_to_postfix_reaches_a_case_by_lmtp_and_the_reply_and_answer_thread_through_dovecot(
    contacts,
    channels,
    peers,
):
    postfix, dovecot, _ = peers
    ann = await consumer(contacts, "Ann Lee", "ann@example.com")
    swaks = await asyncio.to_thread(
        subprocess.run,
        ["swaks", "--server", f"127.0.0.1:{postfix.smtp_port}", "--from", "ann@example.com",
         "--to", "care@crs.test", "--header", "Subject: Plastic in my cereal",
         "--header", "Message-Id: <ann-peer-1@example.com>", "--body", "There was blue plastic in the box."],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert swaks.returncode == 0, swaks.stdout + swaks.stderr
    (case,) = await cases_of(contacts, ann.id, 1)
    case = await casework_pb2_grpc.CaseworkStub(contacts.channel).GetCase(
        casework_pb2.GetCaseRequest(id=case.id), metadata=ADA
    )
    assert case.verbatim == "Plastic in my cereal\n\nThere was blue plastic in the box."
    assert case.channel == "email"

    # Casework has the case a moment before channels has filed the mail on it.
    async def filed():
        return list(
            (await channels.ListMessages(pb.ListMessagesRequest(case_id=case.id), metadata=ADA)).messages
        )

    await async_wait_for(filed, timeout=10, what="the mail on its case")

    await channels.SendReply(
        pb.SendReplyRequest(case_id=case.id, body="Please send the lot code."), metadata=ADA
    )
    (reply,) = await async_wait_for(
        lambda: asyncio.to_thread(inbox, dovecot, "ann@example.com"),
        timeout=30,
        what="the reply in Ann's mailbox",
    )
    assert reply["In-Reply-To"] == "<ann-peer-1@example.com>"
    assert reply["References"] == "<ann-peer-1@example.com>"
    assert reply["Message-ID"].endswith("@crs.test>")
    assert reply["Subject"] == f"Re: Plastic in my cereal [Case {case.reference}]"
    assert reply.get_content().strip() == "Please send the lot code."

    # Ann's mail program answers through the MTA, with the threading headers it adds.
    await asyncio.to_thread(
        send, postfix.smtp_port, "ann@example.com", "care@crs.test",
        subject=str(reply["Subject"]), body="The lot code is L2291.", message_id="<ann-peer-2@example.com>",
        In_Reply_To=reply["Message-ID"], References=f"<ann-peer-1@example.com> {reply['Message-ID']}",
    )  # fmt: skip

    async def answered():
        found = await channels.ListMessages(pb.ListMessagesRequest(case_id=case.id), metadata=ADA)
        return list(found.messages) if len(found.messages) == 3 else None

    messages = await async_wait_for(answered, timeout=30, what="the answer on the same case")
    assert [m.direction for m in messages] == ["inbound", "outbound", "inbound"]
    assert messages[2].body.strip() == "The lot code is L2291."
    assert len(await cases_of(contacts, ann.id, 1)) == 1


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("crs_channels_inbound_total", {"outcome": outcome}) or 0.0


async def test_a_hosted_mailbox_read_by_imap_idle_loses_and_doubles_nothing_across_a_dovecot_restart(
    contacts,
    channels,
    peers,
):
    postfix, dovecot, _ = peers
    mailbox = f"{HOSTED}@127.0.0.1:{dovecot.imap_port}/INBOX"
    cy = await consumer(contacts, "Cy Dunn", "cy@example.com")
    duplicates = counted("duplicate")

    def mail(n: int) -> None:
        send(postfix.smtp_port, "cy@example.com", HOSTED, subject=f"Question {n}", body=f"Question number {n}.",
             message_id=f"<cy-{n}@example.com>")  # fmt: skip

    for n in range(1, 4):
        await asyncio.to_thread(mail, n)
    await cases_of(contacts, cy.id, 1)  # IDLE has brought at least the first in
    await asyncio.to_thread(mail, 4)
    await asyncio.to_thread(dovecot.stop)
    # While Dovecot is down Postfix holds what comes; the mailbox goes unread and that is reported.
    for n in range(5, 8):
        await asyncio.to_thread(mail, n)

    def stale() -> bool:
        return REGISTRY.get_sample_value("crs_channels_imap_stale", {"mailbox": mailbox}) == 1.0

    await async_wait_for(lambda: asyncio.sleep(0, stale()), timeout=STALE_SECONDS * 5, what="the stale alert")
    await asyncio.to_thread(dovecot.start)
    for n in range(8, 11):
        await asyncio.to_thread(mail, n)

    cases = await cases_of(contacts, cy.id, 10)
    assert sorted(c.verbatim for c in cases) == sorted(
        f"Question {n}\n\nQuestion number {n}." for n in range(1, 11)
    )
    # Each message in the mailbox was read once: the reader resumed at the stored UID. Postfix may have
    # delivered a message twice when Dovecot went away before confirming it (at least once, as MTAs do);
    # such a copy is refused as a duplicate and makes no second case.
    held = [m["Message-ID"] for m in await asyncio.to_thread(inbox, dovecot, HOSTED)]
    assert set(held) == {f"<cy-{n}@example.com>" for n in range(1, 11)}
    assert counted("duplicate") - duplicates == len(held) - len(set(held))
    assert len(await cases_of(contacts, cy.id, 10)) == 10
    await async_wait_for(lambda: asyncio.sleep(0, not stale()), timeout=15, what="the alert cleared")


def corpus() -> list[tuple[str, bytes]]:
    """(what it is, raw message) for the mail corpus, each from dee@example.com, each its own subject."""

    def text(subject: str, body: str, charset: str, message_id: str) -> bytes:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"], m["Message-ID"] = (
            "dee@example.com",
            "care@crs.test",
            subject,
            message_id,
        )
        m.set_content(body, charset=charset, cte="base64" if charset != "iso-8859-1" else "8bit")
        return m.as_bytes()

    nested = EmailMessage()
    nested["From"], nested["To"], nested["Subject"] = "dee@example.com", "care@crs.test", "Photo of the lid"
    nested["Message-ID"] = "<dee-nested@example.com>"
    nested.set_content("The lid was cracked, photo attached.")
    nested.add_alternative("<p>The lid was <b>cracked</b>, photo attached.</p>", subtype="html")
    nested.add_attachment(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64, maintype="image", subtype="png", filename="lid.png"
    )
    oversized = EmailMessage()
    oversized["From"], oversized["To"], oversized["Subject"] = (
        "dee@example.com",
        "care@crs.test",
        "Scan of receipt",
    )
    oversized["Message-ID"] = "<dee-big@example.com>"
    oversized.set_content("The receipt is attached.")
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    oversized.add_attachment(big, maintype="application", subtype="pdf", filename="receipt.pdf")
    bounce = (
        b"From: MAILER-DAEMON@example.com\r\nTo: care@crs.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; nobody@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
    )
    auto = text("Out of office", "I am away until Monday.", "utf-8", "<dee-ooo@example.com>")
    auto = b"Auto-Submitted: auto-replied\r\n" + auto
    loop = b"X-CRS-Loop: crs.test\r\n" + text(
        "Re: your case", "Our own reply came back.", "utf-8", "<loop@crs.test>"
    )
    latin = text(
        "Café trop amer", "Le café était trop amer, même sucré.", "iso-8859-1", "<dee-latin@example.com>"
    )
    return [
        ("latin", latin),
        ("shift_jis", text("異物混入", "ビスケットに異物が入っていました。", "shift_jis", "<dee-sjis@example.com>")),
        ("gb2312", text("包装破损", "包装破损了。饼干碎了。", "gb2312", "<dee-gb@example.com>")),
        ("html", (
            b"From: dee@example.com\r\nTo: care@crs.test\r\nSubject: Broken seal\r\nMessage-ID: <dee-html@example.com>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            b"<html><head><style>p{color:red}</style><script>track()</script></head>"
            b"<body><p>The seal was <b>broken</b>.</p><p>Please advise.</p></body></html>\r\n"
        )),
        ("nested", nested.as_bytes()),
        ("oversized", oversized.as_bytes()),
        ("bounce", bounce),
        ("auto_reply", auto),
        ("loop", loop),
        ("duplicate", latin),
        ("malformed", b"From: =?x?Q?=ZZ?= <\r\nSubject: \xff\xfe\r\n\r\n\x00 garbage\r\n"),
    ]  # fmt: skip


async def test_the_mail_corpus_through_postfix_and_lmtp_gives_each_its_documented_outcome(
    contacts,
    channels,
    peers,
):
    postfix, _, _ = peers
    dee = await consumer(contacts, "Dee Park", "dee@example.com")
    before = {
        reason: counted(reason) for reason in ("bounce", "auto_reply", "loop", "duplicate", "malformed")
    }

    def deliver_all() -> None:
        with smtplib.SMTP("127.0.0.1", postfix.smtp_port, timeout=60) as client:
            for _, raw in corpus():
                client.sendmail("dee@example.com", ["care@crs.test"], raw)

    await asyncio.to_thread(deliver_all)
    cases = {c.verbatim.split("\n")[0]: c for c in await cases_of(contacts, dee.id, 6)}
    assert "Le café était trop amer, même sucré." in cases["Café trop amer"].verbatim
    assert "ビスケットに異物が入っていました。" in cases["異物混入"].verbatim
    assert "包装破损了。饼干碎了。" in cases["包装破损"].verbatim
    html = cases["Broken seal"].verbatim
    assert "The seal was broken." in html and "Please advise." in html
    assert "track()" not in html and "color:red" not in html

    async def attachments(subject: str):
        found = await channels.ListMessages(pb.ListMessagesRequest(case_id=cases[subject].id), metadata=ADA)
        return [(a.filename, a.kept) for a in found.messages[0].attachments]

    assert "The lid was cracked, photo attached." in cases["Photo of the lid"].verbatim
    assert await attachments("Photo of the lid") == [("lid.png", True)]
    assert await attachments("Scan of receipt") == [("receipt.pdf", False)]

    async def refused():
        changed = {reason: counted(reason) - before[reason] for reason in before}
        return changed if all(changed.values()) else None

    assert await async_wait_for(refused, timeout=30, what="every refusal") == dict.fromkeys(before, 1.0)
    assert len(await cases_of(contacts, dee.id, 6)) == 6  # nothing refused made a case
    # And the service goes on taking mail.
    await asyncio.to_thread(
        send, postfix.smtp_port, "dee@example.com", "care@crs.test", subject="Still there?",
        body="One more question.", message_id="<dee-after@example.com>",
    )  # fmt: skip
    assert len(await cases_of(contacts, dee.id, 7)) == 7
