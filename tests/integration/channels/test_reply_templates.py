"""Reply templates over the real Channels gRPC service and database: the demo's, an admin's changes, what
a reply in each language is offered, and who may change them."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc

from services.channels.__main__ import Settings, serve
from services.runtime import grpcio
from services.runtime.principal import Principal

ADA = Principal("ada", "agent", extension="1001", team="north").metadata()
ROOT = Principal("root", "admin").metadata()


@pytest.fixture
async def channels(database_url):
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts="127.0.0.1:1",  # templates need no casework
        smtp_bind="127.0.0.1:0",
        lmtp_bind="",
        smtp_url="smtp://127.0.0.1:1",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=60.0,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}", default_deadline=10)
    yield channels_pb2_grpc.ChannelsStub(chan)
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


async def offered(stub, language: str) -> list[tuple[str, str]]:
    found = await stub.ListReplyTemplates(pb.ListReplyTemplatesRequest(language=language), metadata=ADA)
    return [(t.name, t.language) for t in found.templates]


async def test_an_admins_templates_are_offered_in_the_consumers_language_else_english(channels):
    stub = channels
    assert await offered(stub, "fr") == [("Ask for the lot code", "fr"), ("Where to buy", "fr")]
    assert await offered(stub, "es") == [("Ask for the lot code", "es"), ("Where to buy", "en")]
    assert await offered(stub, "ja") == [("Ask for the lot code", "en"), ("Where to buy", "en")]

    added = await stub.SaveReplyTemplate(
        pb.ReplyTemplate(name="Where to buy", language="ES", body="  Gracias por su pregunta.  "),
        metadata=ROOT,
    )
    assert (added.language, added.body, added.updated_by) == ("es", "Gracias por su pregunta.", "root")
    assert await offered(stub, "es") == [("Ask for the lot code", "es"), ("Where to buy", "es")]

    changed = await stub.SaveReplyTemplate(
        pb.ReplyTemplate(id=added.id, name="Where to buy", language="es", body="Gracias."), metadata=ROOT
    )
    assert changed.body == "Gracias."
    await stub.DeleteReplyTemplate(pb.DeleteReplyTemplateRequest(id=added.id), metadata=ROOT)
    assert await offered(stub, "es") == [("Ask for the lot code", "es"), ("Where to buy", "en")]
    every = await stub.ListReplyTemplates(pb.ListReplyTemplatesRequest(), metadata=ROOT)
    assert len(every.templates) == 5


@pytest.mark.parametrize(
    ("template", "status", "detail"),
    [
        (pb.ReplyTemplate(name="Where to buy", language="en", body="x"), "INVALID_ARGUMENT", "already"),
        (pb.ReplyTemplate(name="Thanks", language="english", body="x"), "INVALID_ARGUMENT", "language"),
        (pb.ReplyTemplate(name="Thanks", language="en", body=" "), "INVALID_ARGUMENT", "body"),
        (pb.ReplyTemplate(id=999999, name="Thanks", language="en", body="x"), "NOT_FOUND", "999999"),
    ],
)
async def test_a_bad_template_is_refused_with_the_reason(channels, template, status, detail):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await channels.SaveReplyTemplate(template, metadata=ROOT)
    assert refused.value.code().name == status and detail in refused.value.details()


async def test_an_agent_may_read_templates_but_not_change_them(channels):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await channels.SaveReplyTemplate(pb.ReplyTemplate(name="Mine", language="en", body="x"), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await channels.DeleteReplyTemplate(pb.DeleteReplyTemplateRequest(id=1), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
