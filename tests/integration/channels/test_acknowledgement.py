"""The acknowledgement with suggested articles, over real SMTP into channels, against the real contacts
service and database, and knowledge's own use cases and gRPC service (its demo articles and code model,
in memory) behind the runtime's gRPC server and its permission checks."""

from __future__ import annotations

import asyncio
import logging
import pathlib

import pytest
from aiosmtpd.smtp import SMTP
from crs.channels.v1 import channels_pb2 as pb
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2

from services.channels.__main__ import Settings, serve
from services.knowledge import articles
from services.knowledge.demo.verbatims import generate
from services.knowledge.grpc_api import servicer as knowledge_servicer
from services.knowledge.service import Knowledge
from services.runtime import grpcio
from services.runtime.grpcio import Server
from tests.integration.channels.test_email_to_case import ADA, Mailbox, deliver, mail_from_ann
from tests.support.wait import async_wait_for
from tests.unit.knowledge.fakes import MemoryStore

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"


@pytest.fixture(scope="module")
async def knowledge():
    kb = Knowledge(MemoryStore(), None)
    for path in sorted(DEMO.glob("*.md")):
        await kb.put(articles.parse_markdown(path.read_text()), actor="importer", role="admin", publish=True)
    await kb.train_codes(*generate())
    server = Server([knowledge_servicer(kb)], "127.0.0.1:0", health="")
    port = await server.start()
    yield kb, port
    await server.stop(1)


@pytest.fixture(scope="module")
async def stack(contacts, knowledge, database_url):
    box = Mailbox()
    provider = await asyncio.get_running_loop().create_server(lambda: SMTP(box), "127.0.0.1", 0)
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=f"127.0.0.1:{contacts.bound.grpc_port}",
        smtp_bind="127.0.0.1:0",
        lmtp_bind="",
        smtp_url=f"smtp://127.0.0.1:{provider.sockets[0].getsockname()[1]}",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=0.2,
        knowledge=f"127.0.0.1:{knowledge[1]}",
        email_ack=True,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}", default_deadline=10)
    from crs.channels.v1 import channels_pb2_grpc

    yield channels_pb2_grpc.ChannelsStub(chan), ports, box
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)
    provider.close()


async def test_a_question_is_acknowledged_with_articles_and_a_complaint_or_a_safety_matter_is_not(
    contacts,
    knowledge,
    stack,
    caplog,
):
    caplog.set_level(logging.INFO, logger="services.channels.acknowledge")
    kb, _ = knowledge
    stub, ports, box = stack
    quinn = await contacts.stub.CreateConsumer(
        contacts_pb2.CreateConsumerRequest(
            consumer=contacts_pb2.Consumer(
                name="Quinn Ray", emails=[contacts_pb2.Email(address="q@example.com")]
            )
        ),
        metadata=ADA,
    )
    for body, subject, message_id in (
        ("The box was torn open and half of it was empty.", "Torn box", "<ack-complaint@example.com>"),
        ("Where can I buy the oats? The last box made me sick.", "Stockists", "<ack-safety@example.com>"),
        (
            "Where can I buy your oats? My supermarket does not have them.",
            "Where to buy",
            "<ack-q@example.com>",
        ),
    ):
        raw = mail_from_ann(
            body, subject=subject, message_id=message_id, sender=f"{message_id[5:-13]}@example.com"
        )
        await asyncio.to_thread(deliver, ports["smtp"], raw)

    (ack,) = await async_wait_for(
        lambda: asyncio.sleep(0, box.received), timeout=30, what="the acknowledgement"
    )
    casework = casework_pb2_grpc.CaseworkStub(contacts.channel)
    found = await casework.SearchCases(casework_pb2.SearchCasesRequest(consumer_id=quinn.id), metadata=ADA)
    (case,) = found.cases
    assert ack["To"] == "q@example.com"
    assert ack["In-Reply-To"] == "<ack-q@example.com>"
    assert ack["Subject"] == f"Re: Where to buy [Case {case.reference}]"
    text = ack.get_content()
    assert f"case {case.reference}" in text and "1. " in text
    assert "where to buy" in text.lower()

    # Knowledge logged it as an automated answer, handed to a person (the case stays with an agent).
    logged = await async_wait_for(
        lambda: asyncio.sleep(0, [a for a in kb.store.answers if a.channel == "email"]),
        timeout=10,
        what="knowledge's log",
    )
    by_question = {a.question.split("\n")[0]: a for a in logged}
    assert by_question["Where to buy"].outcome == "handed_off"
    safety = by_question["Stockists"]
    assert (safety.outcome, safety.handoff_reason) == ("handed_off", "safety")
    assert "Torn box" not in by_question  # not a question: knowledge was not asked for an answer

    await async_wait_for(
        lambda: asyncio.sleep(0, "not a question" in caplog.text and "handed off (safety)" in caplog.text),
        timeout=10,
        what="the two mails considered and not acknowledged",
    )
    assert len(box.received) == 1
    # The acknowledgement is on the case's messages, by channels, and is not the case's first response.
    messages = (await stub.ListMessages(pb.ListMessagesRequest(case_id=case.id), metadata=ADA)).messages
    assert [(m.direction, m.author) for m in messages] == [("inbound", ""), ("outbound", "channels")]
    timeline = await casework.GetTimeline(casework_pb2.GetTimelineRequest(id=case.id), metadata=ADA)
    assert not [e for e in timeline.events if e.kind == "action" and "replied" in e.note.lower()]
