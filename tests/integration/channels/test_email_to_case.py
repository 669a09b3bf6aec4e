"""Email in and out over real SMTP, against the real contacts service and database.

Mail is sent with smtplib to channels' SMTP ingress; replies leave through CRS_SMTP_URL to an aiosmtpd
server standing in for the consumer's mail provider (Postfix and Dovecot are not set up on this machine).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from email.message import EmailMessage

import grpc
import pytest
from aiosmtpd.smtp import SMTP
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2
from prometheus_client import REGISTRY

from services.channels.__main__ import Settings, serve
from services.channels.sink import serve_sink
from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.support.wait import async_wait_for

ADA = Principal("ada", "agent", extension="1001", team="north").metadata()


class Mailbox:
    """What the consumer's mail provider received."""

    def __init__(self):
        self.received: list[EmailMessage] = []
        self.down = False

    async def handle_DATA(self, server, session, envelope):
        if self.down:
            return "421 4.3.2 Service not available"
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
async def mailbox():
    box = Mailbox()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(box), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()


@pytest.fixture(scope="module")
async def channels(contacts, mailbox, database_url):
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=f"127.0.0.1:{contacts.bound.grpc_port}",
        smtp_bind="127.0.0.1:0",
        lmtp_bind="127.0.0.1:0",
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=0.2,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}", default_deadline=10)
    yield channels_pb2_grpc.ChannelsStub(chan), ports
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


def deliver(port: int, raw: bytes, *, lmtp: bool = False) -> None:
    client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=10)
    with client:
        client.sendmail("ann@example.com", ["care@crs.test"], raw)


def mail_from_ann(
    body: str, *, subject: str, message_id: str, sender: str = "Ann Lee <Ann.Lee@example.com>", **headers
) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "care@crs.test"
    m["Subject"] = subject
    m["Message-ID"] = message_id
    for name, value in headers.items():
        m[name] = value
    m.set_content(body)
    return m.as_bytes()


async def case_messages(stub, case_id):
    return list((await stub.ListMessages(pb.ListMessagesRequest(case_id=case_id), metadata=ADA)).messages)


async def test_a_mail_becomes_a_case_the_reply_goes_out_threaded_and_the_answer_lands_on_the_same_case(
    contacts,
    channels,
    mailbox,
):
    stub, ports = channels
    ann = await contacts.stub.CreateConsumer(
        contacts_pb2.CreateConsumerRequest(
            consumer=contacts_pb2.Consumer(
                name="Ann Lee", language="en", emails=[contacts_pb2.Email(address="ann.lee@example.com")]
            )
        ),
        metadata=ADA,
    )
    await asyncio.to_thread(
        deliver,
        ports["smtp"],
        mail_from_ann(
            "I found blue plastic in my oat clusters.",
            subject="Plastic in my cereal",
            message_id="<ann-1@example.com>",
        ),
    )
    casework = contacts.channel and __import__(
        "crs.contacts.v1.casework_pb2_grpc", fromlist=["x"]
    ).CaseworkStub(contacts.channel)

    async def opened():
        found = await casework.SearchCases(casework_pb2.SearchCasesRequest(consumer_id=ann.id), metadata=ADA)
        return list(found.cases)

    (case,) = await async_wait_for(opened, timeout=15, what="the email's case")
    case = await casework.GetCase(casework_pb2.GetCaseRequest(id=case.id), metadata=ADA)
    assert case.consumer_id == ann.id
    assert case.verbatim == "Plastic in my cereal\n\nI found blue plastic in my oat clusters."
    assert (case.channel, case.created_by) == ("email", "channels")

    # Casework has the case a moment before channels has filed the mail on it.
    await async_wait_for(lambda: case_messages(stub, case.id), timeout=10, what="the mail on its case")
    sent = await stub.SendReply(
        pb.SendReplyRequest(case_id=case.id, body="We are sorry. Could you send us the lot code?"),
        metadata=ADA,
    )
    assert (sent.direction, sent.author, sent.to_address) == ("outbound", "ada", "ann.lee@example.com")
    (reply,) = await async_wait_for(lambda: asyncio.sleep(0, mailbox.received), timeout=15, what="the reply")
    assert reply["In-Reply-To"] == "<ann-1@example.com>"
    assert reply["References"] == "<ann-1@example.com>"
    assert reply["Subject"] == f"Re: Plastic in my cereal [Case {case.reference}]"

    # Ann answers over LMTP this time, with the threading headers her mail program adds.
    await asyncio.to_thread(
        deliver,
        ports["lmtp"],
        mail_from_ann(
            "The lot code is L2291.",
            subject=str(reply["Subject"]),
            message_id="<ann-2@example.com>",
            **{
                "In-Reply-To": reply["Message-ID"],
                "References": f"<ann-1@example.com> {reply['Message-ID']}",
            },
        ),
        lmtp=True,
    )

    async def answered():
        found = await case_messages(stub, case.id)
        return found if len(found) == 3 else None

    messages = await async_wait_for(answered, timeout=15, what="the answer on the case")
    assert [(m.direction, m.delivery) for m in messages] == [
        ("inbound", "received"),
        ("outbound", "sent"),
        ("inbound", "received"),
    ]
    assert messages[2].body.strip() == "The lot code is L2291."
    timeline = await casework.GetTimeline(casework_pb2.GetTimelineRequest(id=case.id), metadata=ADA)
    notes = [(e.actor, e.kind, e.note) for e in timeline.events if e.kind == "action"]
    assert notes == [
        ("channels", "action", f"Email sent by ada: Re: Plastic in my cereal [Case {case.reference}]"),
        (
            "channels",
            "action",
            f"Email from ann.lee@example.com: Re: Plastic in my cereal [Case {case.reference}]",
        ),
    ]


async def test_a_reply_waits_in_the_outbox_while_the_mail_server_is_down(contacts, channels, mailbox):
    stub, ports = channels
    ben = await contacts.stub.CreateConsumer(
        contacts_pb2.CreateConsumerRequest(
            consumer=contacts_pb2.Consumer(
                name="Ben Ode", emails=[contacts_pb2.Email(address="ben@example.com")]
            )
        ),
        metadata=ADA,
    )
    await asyncio.to_thread(
        deliver,
        ports["smtp"],
        mail_from_ann(
            "Where can I buy the 500 g box?",
            subject="Stockists",
            message_id="<ben-1@example.com>",
            sender="ben@example.com",
        ),
    )
    casework = casework_pb2_grpc.CaseworkStub(contacts.channel)

    async def opened():
        found = await casework.SearchCases(casework_pb2.SearchCasesRequest(consumer_id=ben.id), metadata=ADA)
        return list(found.cases)

    (case,) = await async_wait_for(opened, timeout=15, what="the case")
    await async_wait_for(lambda: case_messages(stub, case.id), timeout=10, what="the mail on its case")
    before = len(mailbox.received)
    mailbox.down = True
    await stub.SendReply(pb.SendReplyRequest(case_id=case.id, body="Any supermarket."), metadata=ADA)

    async def retried():
        (_, out) = await case_messages(stub, case.id)
        return out if out.attempts >= 1 and out.delivery == "queued" else None

    waiting = await async_wait_for(retried, timeout=15, what="a failed attempt")
    assert waiting.last_error.startswith("SMTP")
    mailbox.down = False
    # The next try is 10 s after the first failure.
    (_, out) = await async_wait_for(
        lambda: _sent(stub, case.id), timeout=30, what="the reply once the server is back"
    )
    assert out.delivery == "sent" and len(mailbox.received) == before + 1


async def _sent(stub, case_id):
    found = await case_messages(stub, case_id)
    return found if found[-1].delivery == "sent" else None


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("crs_channels_inbound_total", {"outcome": outcome}) or 0.0


async def test_an_auto_reply_and_a_duplicate_make_no_case_and_are_listed_with_their_reason(channels):
    stub, ports = channels
    before = counted("auto_reply"), counted("duplicate")
    await asyncio.to_thread(
        deliver,
        ports["smtp"],
        mail_from_ann(
            "I am out of the office.",
            subject="Out of office",
            message_id="<ooo@example.com>",
            **{"Auto-Submitted": "auto-replied"},
        ),
    )
    await asyncio.to_thread(
        deliver,
        ports["smtp"],
        mail_from_ann(
            "I found blue plastic in my oat clusters.",
            subject="Plastic in my cereal",
            message_id="<ann-1@example.com>",
        ),
    )
    await asyncio.to_thread(
        deliver, ports["smtp"], b"From: =?x?Q?=ZZ?= <\r\nSubject: \xff\xfe\r\n\r\n\x00 garbage"
    )
    supervisor = Principal("sam", "supervisor", team="north").metadata()

    async def listed():
        found = await stub.ListRejections(pb.ListRejectionsRequest(limit=10), metadata=supervisor)
        reasons = sorted(r.reason for r in found.rejections)
        return reasons if {"auto_reply", "duplicate", "malformed"} <= set(reasons) else None

    assert await async_wait_for(listed, timeout=15, what="the three rejections") == [
        "auto_reply",
        "duplicate",
        "malformed",
    ]
    assert (counted("auto_reply") - before[0], counted("duplicate") - before[1]) == (1.0, 1.0)


async def test_the_development_sink_files_what_it_receives_in_a_maildir(tmp_path):
    server = await serve_sink("127.0.0.1:0", tmp_path / "sink")
    port = server.sockets[0].getsockname()[1]
    try:
        raw = mail_from_ann("Filed.", subject="To the sink", message_id="<sink-1@example.com>")
        await asyncio.to_thread(deliver, port, raw)
    finally:
        server.close()
    (filed,) = list((tmp_path / "sink" / "new").iterdir())
    assert (
        email.message_from_bytes(filed.read_bytes(), policy=email.policy.default)["Subject"] == "To the sink"
    )


async def test_the_sink_is_listed_only_where_one_runs_and_only_for_admins(channels):
    stub, _ = channels
    root = Principal("root", "admin").metadata()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListSinkMail(pb.ListSinkMailRequest(), metadata=root)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # replies go to a relay here
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListSinkMail(pb.ListSinkMailRequest(), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
