"""Chat over the real widget socket and the real AgentChat stream, against the real contacts service and
database: the chat is routed to the agent's desk, lines go both ways, the case and its transcript are in
casework and channels; bad origins, oversized frames and floods are refused and the service keeps going."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import grpc
import pytest
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc

from services.channels.__main__ import Settings, serve
from services.runtime import grpcio
from services.runtime.principal import Principal

ADA = Principal("ada", "agent", extension="1001", team="north").metadata()
ORIGIN = "http://brand.test:8000"


@pytest.fixture(scope="module")
async def channels(contacts, database_url):
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=f"127.0.0.1:{contacts.bound.grpc_port}",
        smtp_bind="127.0.0.1:0",
        lmtp_bind="",
        smtp_url="smtp://127.0.0.1:9",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=5,
        chat_bind="127.0.0.1:0",
        chat_origins=frozenset({ORIGIN}),
        chat_demo_bind="127.0.0.1:0",
        chat_burst=5,
        chat_rate=1,
        # A closed widget ends its chat at once here (test_chat_assistant.py takes a reload up again).
        chat_resume_seconds=0,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}")
    yield (
        channels_pb2_grpc.ChannelsStub(chan),
        f"ws://127.0.0.1:{ports['chat']}/chat/ws",
        f"http://127.0.0.1:{ports['chat_demo']}",
    )
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


class Desk:
    """ada's chat desk, as the console holds it."""

    def __init__(self, stub, metadata=ADA):
        self.call = stub.AgentChat(metadata=metadata)

    async def open(self, languages=("en",)):
        await self.call.write(pb.ChatAction(kind="available", languages=languages, display_name="Ada Moreno"))
        return await self.next("ready")

    async def next(self, kind):
        while True:
            event = await asyncio.wait_for(self.call.read(), 10)
            if event.kind == kind:
                return event


async def frames_until(ws, kind):
    while True:
        message = await asyncio.wait_for(ws.receive(), 10)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame = json.loads(message.data)
        if frame["type"] == kind:
            return frame


async def test_a_chat_reaches_the_agents_desk_and_its_transcript_is_the_case(channels, contacts):
    stub, url, _ = channels
    desk = Desk(stub)
    await desk.open(("en", "fr"))
    async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=ORIGIN) as ws:
        await ws.send_json({"type": "hello", "language": "fr-FR"})
        assert (await frames_until(ws, "welcome"))["available"] is True
        await ws.send_json({"type": "start", "name": "Marie", "body": "Il y avait du plastique"})
        started = await frames_until(ws, "started")
        offered = await desk.next("chat")
        assert (offered.consumer_name, offered.language) == ("Marie", "fr")
        assert [x.body for x in offered.lines] == ["Il y avait du plastique"]
        await ws.send_json({"type": "typing"})
        assert (await desk.next("typing")).chat_id == offered.chat_id
        await desk.call.write(pb.ChatAction(kind="reply", chat_id=offered.chat_id, body="Quel est le lot ?"))
        line = await frames_until(ws, "line")
        assert (line["line"]["author"], line["line"]["body"]) == ("Ada Moreno", "Quel est le lot ?")
        await ws.send_json({"type": "delivered", "line_id": line["line"]["id"]})
        assert (await desk.next("delivered")).line_id == line["line"]["id"]
        await ws.send_json({"type": "say", "body": "L2417"})
        assert (await frames_until(ws, "sent"))["line"]["body"] == "L2417"

    assert (await desk.next("ended")).chat_id == offered.chat_id
    desk.call.cancel()
    case = await casework_pb2_grpc.CaseworkStub(contacts.channel).GetCase(
        casework_pb2.GetCaseRequest(id=offered.case_id), metadata=ADA
    )
    assert (case.channel, case.reference, case.language) == ("chat", started["case_reference"], "fr")
    assert case.verbatim == "Il y avait du plastique"
    messages = (await stub.ListMessages(pb.ListMessagesRequest(case_id=case.id), metadata=ADA)).messages
    assert [(m.channel, m.direction, m.body) for m in messages] == [
        ("chat", "inbound", "Il y avait du plastique"),
        ("chat", "outbound", "Quel est le lot ?"),
        ("chat", "inbound", "L2417"),
    ]
    assert messages[1].author == "ada"


async def test_a_socket_from_an_origin_not_allowed_is_refused(channels):
    _, url, _ = channels
    async with aiohttp.ClientSession() as session:
        for headers in ({"Origin": "https://evil.test"}, {}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url, headers=headers)
            assert refused.value.status == 403


async def test_oversized_frames_and_floods_are_refused_and_chat_goes_on(channels):
    _, url, _ = channels
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, origin=ORIGIN) as ws:
            await ws.send_str(json.dumps({"type": "say", "body": "x" * 9000}))
            closing = await asyncio.wait_for(ws.receive(), 10)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        async with session.ws_connect(url, origin=ORIGIN) as ws:
            await ws.send_json({"type": "start", "body": "y" * 2001})
            assert "at most 2000" in (await frames_until(ws, "error"))["detail"]
            for _ in range(40):
                await ws.send_json({"type": "hello", "language": "en"})
            errors = []
            while True:
                message = await asyncio.wait_for(ws.receive(), 10)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frame = json.loads(message.data)
                if frame["type"] == "error":
                    errors.append(frame["detail"])
            assert "too many messages: please slow down" in errors
            assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
        async with session.ws_connect(url, origin=ORIGIN) as ws:
            await ws.send_json({"type": "hello", "language": "de"})
            assert (await frames_until(ws, "welcome"))["available"] is False


async def test_only_an_agent_may_open_a_desk(channels):
    stub, _, _ = channels
    for who, code in (
        (Principal("quinn", "analyst"), grpc.StatusCode.PERMISSION_DENIED),
        (Principal("channels", "service"), grpc.StatusCode.PERMISSION_DENIED),
    ):
        desk = Desk(stub, who.metadata())
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await desk.open()
        assert refused.value.code() == code


async def test_the_demo_page_carries_the_widget_and_its_origin_may_open_the_socket(channels):
    _, url, demo = channels
    async with aiohttp.ClientSession() as session:
        async with session.get(demo + "/") as page:
            assert url.replace("ws://", "http://").replace("/chat/ws", "/chat/widget.js") in await page.text()
        async with session.get(url.replace("ws://", "http://").replace("/ws", "/widget.js")) as script:
            assert script.content_type == "application/javascript" and "WebSocket" in await script.text()
        async with session.ws_connect(url, origin=demo) as ws:
            await ws.send_json({"type": "hello", "language": "en"})
            assert "available" in await frames_until(ws, "welcome")
