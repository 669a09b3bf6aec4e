"""The chat assistant against the real knowledge service (its demo articles, its hand-off rules and its
answer log), the real contacts service and database, over the real widget socket and AgentChat stream:
each hand-off rule in English and in French, the answer's outcome logged, a safety matter escalated."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib

import aiohttp
import pytest
import pytest_asyncio
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.channels.__main__ import Settings, serve
from services.knowledge import articles
from services.knowledge.__main__ import serve as serve_knowledge
from services.runtime import grpcio
from services.runtime.db import connect
from services.runtime.principal import Principal

ADA = Principal("ada", "agent", extension="1001", team="north").metadata()
# An agent with no chats of earlier tests still waiting for their page's reload.
CLEO = Principal("cleo", "agent", extension="1003", team="north").metadata()
ADMIN = Principal("kb.admin", "admin").metadata()
ORIGIN = "http://brand.test:8000"
DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"


@pytest_asyncio.fixture(scope="module")
async def knowledge(database_url):
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve_knowledge(stop, database_url=database_url, bind="127.0.0.1:0", on_ready=ready.set_result)
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 240)
    chan = grpcio.channel(f"127.0.0.1:{port}", default_deadline=60)
    stub = knowledge_pb2_grpc.KnowledgeStub(chan)
    for path in sorted(DEMO.glob("*.md")):
        a = articles.parse_markdown(path.read_text())
        await stub.PutArticle(
            knowledge_pb2.PutArticleRequest(
                id=a.id,
                product_sku=a.product_sku,
                kind=a.kind,
                language=a.language,
                title=a.title,
                body=a.body,
                publish=True,
            ),
            metadata=ADMIN,
        )
    yield port, stub
    await chan.close()
    stop.set()
    await task


@pytest_asyncio.fixture(scope="module")
async def channels(contacts, knowledge, database_url):
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
        knowledge=f"127.0.0.1:{knowledge[0]}",
        # Long enough for a reload in the test; short enough that one test's chats are gone by the next's.
        chat_resume_seconds=3,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}")
    yield channels_pb2_grpc.ChannelsStub(chan), f"ws://127.0.0.1:{ports['chat']}/chat/ws"
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def desk_of_ada(stub, who=ADA, display_name="Ada Moreno"):
    call = stub.AgentChat(metadata=who)
    await call.write(
        pb.ChatAction(kind="available", languages=["en", "fr"], display_name=display_name, capacity=8)
    )
    try:
        await next_event(call, "ready")
        yield call
    finally:
        call.cancel()


async def offer_of(call, consumer):
    """The desk's offer of this consumer's chat (a chat of an earlier test may be offered again first)."""
    while True:
        event = await next_event(call, "chat")
        if event.case_reference == consumer.case_reference:
            return event


async def next_event(call, kind):
    while True:
        event = await asyncio.wait_for(call.read(), 30)
        if event.kind == kind:
            return event


class Widget:
    """The consumer's socket; frames that came before the one awaited are kept, in order, for later."""

    def __init__(self, ws):
        self.ws = ws
        self.early: list[dict] = []
        self.case_reference = 0

    async def send_json(self, value):
        await self.ws.send_json(value)


async def frame(widget, kind):
    for found in widget.early:
        if found["type"] == kind:
            widget.early.remove(found)
            return found
    while True:
        message = await asyncio.wait_for(widget.ws.receive(), 60)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        found = json.loads(message.data)
        if found["type"] == kind:
            return found
        widget.early.append(found)


@contextlib.asynccontextmanager
async def widget(url, language, first):
    async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=ORIGIN) as ws:
        consumer = Widget(ws)
        await consumer.send_json({"type": "hello", "language": language})
        assert (await frame(consumer, "welcome"))["available"] is True
        await consumer.send_json({"type": "start", "body": first})
        started = await frame(consumer, "started")
        consumer.case_reference, consumer.token = started["case_reference"], started["token"]
        yield consumer


def answer_log(database_url):
    with connect(database_url, schema="knowledge") as conn:
        return conn.execute(
            "SELECT question, article_id, score, outcome, handoff_reason FROM answer_log"
            " WHERE channel = 'chat' ORDER BY id DESC LIMIT 1"
        ).fetchone()


async def case_of(contacts, case_id):
    stub = casework_pb2_grpc.CaseworkStub(contacts.channel)
    return await stub.GetCase(casework_pb2.GetCaseRequest(id=case_id), metadata=ADA)


@pytest.mark.parametrize(
    "language,question",
    [("en", "my child got sick after eating it"), ("fr", "mon enfant a été malade après en avoir mangé")],
)
async def test_a_safety_matter_goes_to_the_agent_at_once_and_the_case_is_escalated(
    channels,
    contacts,
    database_url,
    language,
    question,
):
    stub, url = channels
    async with desk_of_ada(stub) as desk, widget(url, language, question) as ws:
        handed = await frame(ws, "line")
        assert handed["line"]["assistant"] and "article" not in handed["line"]
        assert (await frame(ws, "agent"))["name"] == "Ada Moreno"
        offered = await offer_of(desk, ws)
        assert offered.detail == "escalated"
        assert [x.author for x in offered.lines] == ["consumer", "assistant"]
    case = await case_of(contacts, offered.case_id)
    assert case.escalated and case.channel == "chat"
    assert answer_log(database_url)[0] == question
    assert answer_log(database_url)[3:] == ("handed_off", "safety")


@pytest.mark.parametrize(
    "language,question",
    [("en", "can I talk to a person please"), ("fr", "je voudrais parler à un conseiller")],
)
async def test_asking_for_a_person_goes_to_the_agent_not_escalated(
    channels,
    contacts,
    database_url,
    language,
    question,
):
    stub, url = channels
    async with desk_of_ada(stub) as desk, widget(url, language, question) as ws:
        await frame(ws, "agent")
        offered = await offer_of(desk, ws)
        assert offered.detail == ""
    assert not (await case_of(contacts, offered.case_id)).escalated
    assert answer_log(database_url)[3:] == ("handed_off", "asked_for_person")


@pytest.mark.parametrize(
    "language,question",
    [
        ("en", "where can I buy the 500 g oat clusters?"),
        ("fr", "où puis-je acheter les flocons d'avoine ?"),
    ],
)
async def test_the_button_hands_off_and_the_answer_is_logged_as_handed_off(
    channels, database_url, language, question
):
    stub, url = channels
    async with desk_of_ada(stub) as desk, widget(url, language, question) as ws:
        answer = (await frame(ws, "line"))["line"]
        assert answer["article"]["id"] == "oats-where-to-buy"
        assert answer_log(database_url)[1:4:2] == ("oats-where-to-buy", "answered")
        await ws.send_json({"type": "agent"})
        await frame(ws, "agent")
        offered = await offer_of(desk, ws)
        assert [x.author for x in offered.lines] == ["consumer", "assistant", "assistant"]
    assert answer_log(database_url)[3] == "handed_off"


@pytest.mark.parametrize(
    "language,question",
    [("en", "is there gluten in the rolled oats?"), ("fr", "où puis-je acheter les flocons d'avoine ?")],
)
async def test_below_the_threshold_an_admin_set_the_chat_goes_to_an_agent(
    channels, knowledge, database_url, language, question
):
    stub, url = channels
    kb = knowledge[1]
    await kb.SetThreshold(knowledge_pb2.SetThresholdRequest(answer_threshold=0.99), metadata=ADMIN)
    try:
        async with desk_of_ada(stub) as desk, widget(url, language, question) as ws:
            await frame(ws, "agent")
            await offer_of(desk, ws)
        assert answer_log(database_url)[3:] == ("handed_off", "low_confidence")
    finally:
        await kb.SetThreshold(knowledge_pb2.SetThresholdRequest(answer_threshold=0.8), metadata=ADMIN)


@pytest.mark.parametrize(
    "language,question,article",
    [
        ("en", "do the oat clusters contain nuts, milk or gluten?", "oats-ingredients"),
        ("fr", "où puis-je acheter les flocons d'avoine ?", "oats-where-to-buy"),
    ],
)
async def test_an_answer_the_consumer_says_resolved_it_resolves_the_case_and_writing_again_reopens_it(
    channels,
    contacts,
    database_url,
    language,
    question,
    article,
):
    stub, url = channels
    async with widget(url, language, question) as ws:
        answer = (await frame(ws, "line"))["line"]
        assert answer["article"]["id"] == article
        await ws.send_json({"type": "resolved"})
        await frame(ws, "line")
        assert answer_log(database_url)[0] == question
        assert answer_log(database_url)[3] == "resolved"
        case_id = case_id_of(database_url, ws.case_reference)
        assert (await case_of(contacts, case_id)).stage == "resolved"
        await ws.send_json({"type": "say", "body": question})
        await frame(ws, "sent")
        again = (await frame(ws, "line"))["line"]
        assert again["article"]["id"] == article
    assert (await case_of(contacts, case_id)).stage == "in_progress"
    with connect(database_url, schema="knowledge") as conn:
        outcomes = conn.execute(
            "SELECT outcome FROM answer_log WHERE channel = 'chat' AND question = %s ORDER BY id DESC LIMIT 2",
            (question,),
        ).fetchall()
    assert [r[0] for r in outcomes] == ["answered", "reopened"]
    # The transcript on the case is verbatim, the assistant's lines with the consumer's.
    messages = (await stub.ListMessages(pb.ListMessagesRequest(case_id=case_id), metadata=ADA)).messages
    assert [(m.direction, m.author) for m in messages] == [
        ("inbound", ""),
        ("outbound", "assistant"),
        ("outbound", "assistant"),
        ("inbound", ""),
        ("outbound", "assistant"),
    ]
    assert messages[1].body == answer["body"]


def case_id_of(database_url, reference):
    with connect(database_url, schema="channels") as conn:
        return str(
            conn.execute(
                "SELECT case_id FROM message WHERE case_reference = %s LIMIT 1", (reference,)
            ).fetchone()[0]
        )


async def test_a_reloaded_page_takes_its_chat_up_again_with_its_transcript(channels):
    stub, url = channels
    async with desk_of_ada(stub, CLEO, "Cleo Park") as desk:
        async with widget(url, "en", "can I talk to a person please") as first_page:
            await frame(first_page, "agent")
            offered = await offer_of(desk, first_page)
        await desk.write(pb.ChatAction(kind="reply", chat_id=offered.chat_id, body="Hello, I am here"))
        assert (await next_event(desk, "line")).lines[0].body == "Hello, I am here"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=ORIGIN) as ws:
            reloaded = Widget(ws)
            await reloaded.send_json({"type": "hello", "language": "en", "resume": first_page.token})
            resumed = await frame(reloaded, "resumed")
            assert resumed["case_reference"] == first_page.case_reference
            assert [(x["author"], x["body"], x["mine"]) for x in resumed["lines"]] == [
                ("consumer", "can I talk to a person please", True),
                ("Assistant", "Of course: I am passing you to an agent.", False),
                ("Cleo Park", "Hello, I am here", False),
            ]
            await reloaded.send_json({"type": "say", "body": "thank you"})
            line = await next_event(desk, "line")
            assert line.chat_id == offered.chat_id and line.lines[0].body == "thank you"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=ORIGIN) as ws:
            stranger = Widget(ws)
            await stranger.send_json({"type": "hello", "language": "en", "resume": "not-a-token"})
            assert "available" in await frame(stranger, "welcome")
