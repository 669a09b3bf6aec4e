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
from tests.integration.contacts.conftest import contacts  # noqa: F401  (the fixture)
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
async def channels(contacts, peers, database_url):  # noqa: F811
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


async def consumer(contacts, name: str, address: str):  # noqa: F811
    return await contacts.stub.CreateConsumer(
        contacts_pb2.CreateConsumerRequest(
            consumer=contacts_pb2.Consumer(
                name=name, language="en", emails=[contacts_pb2.Email(address=address)]
            )
        ),
        metadata=ADA,
    )


async def cases_of(contacts, consumer_id: str, count: int):  # noqa: F811
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
    contacts,  # noqa: F811
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
    contacts,  # noqa: F811
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
    assert counted("duplicate") == duplicates  # resumed at the stored UID: nothing read twice
    await async_wait_for(lambda: asyncio.sleep(0, not stale()), timeout=15, what="the alert cleared")
