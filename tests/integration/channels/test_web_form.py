"""The public web form, served by channels against the real contacts service and a real knowledge server
(its servicer over the real index and database): good forms become cases exactly once, bad ones get a clear
message and leave no row behind; a question gets suggested articles, and a deflection is counted once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import pathlib

import aiohttp
import grpc
import psycopg
import pytest
import pytest_asyncio
from crs.channels.v1 import channels_pb2, channels_pb2_grpc
from crs.contacts.v1 import casework_pb2 as pb
from crs.knowledge.v1 import knowledge_pb2 as kb
from crs.knowledge.v1 import knowledge_pb2_grpc

from services.channels.__main__ import Settings, serve
from services.channels.rate_limit import TrustedProxies
from services.channels.web_form_wiring import WebFormSettings
from services.knowledge import articles, embedders, grpc_api
from services.knowledge.service import Knowledge
from services.knowledge.store import SqlStore
from services.runtime import grpcio
from services.runtime.db import open_pool
from services.runtime.principal import Principal
from tests.support import infra

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
ADMIN = Principal("kb.admin", "admin").metadata()
SUPERVISOR = Principal("sam", "supervisor", team="north").metadata()
AGENT = Principal("ada", "agent", extension="1001", team="north").metadata()
# Each test speaks from its own address, through the proxy channels is told to trust (loopback), so their
# rate limits do not mix.
_addresses = (f"198.51.100.{i}" for i in itertools.count(1))

GOOD = {
    "topic": "complaint",
    "name": "Jane Roe",
    "email": "jane.roe@example.com",
    "product": "Crunchy Oat Clusters",
    "sku": "COC-500",
    "lot_code": "L2419",
    "best_by": "2025-03-01",
    "store": "FreshMart",
    "location": "Columbus",
    "message": "There was a piece of plastic in the box.\nPlease call me.",
}
WHERE_TO_BUY = "where can I buy the 500 g oat clusters?"


def counts(database_url: str) -> tuple[int, int]:
    """Contacts and contact events in the database: a rejected form must add to neither."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM contacts.contact), (SELECT count(*) FROM contacts.contact_event)"
        ).fetchone()


@pytest_asyncio.fixture(scope="module")
async def knowledge_target():
    """Knowledge's servicer on a database of its own, the demo articles published, BM25 alone."""
    with infra.migrated_database("crs_webform_kb") as url:
        pool = await open_pool(url, schema="knowledge", max_size=4)
        service = Knowledge(SqlStore(pool), embedders.load("none"))
        await service.load()
        server = grpcio.Server([grpc_api.servicer(service)], "127.0.0.1:0")
        port = await server.start()
        chan = grpcio.channel(f"127.0.0.1:{port}")
        stub = knowledge_pb2_grpc.KnowledgeStub(chan)
        for path in sorted(DEMO.glob("*.md")):
            a = articles.parse_markdown(path.read_text())
            await stub.PutArticle(
                kb.PutArticleRequest(
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
        yield f"127.0.0.1:{port}", url
        await chan.close()
        await server.stop(1)
        await pool.close()


@contextlib.asynccontextmanager
async def running_channels(database_url: str, contacts_target: str, knowledge: str):
    """Channels in this process with its web form on a free port; yields the ports it bound."""
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=contacts_target,
        smtp_bind="127.0.0.1:0",
        lmtp_bind="",
        smtp_url="smtp://127.0.0.1:9",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=5,
        web_form=WebFormSettings(
            bind="127.0.0.1:0",
            knowledge=knowledge,
            per_minute=6.0,
            burst=5,
            trusted_proxies=TrustedProxies.parse("127.0.0.1"),
        ),
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    try:
        yield await asyncio.wait_for(asyncio.shield(ready), 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest_asyncio.fixture(scope="module")
async def channels_ports(contacts, database_url, knowledge_target):
    async with running_channels(
        database_url, f"127.0.0.1:{contacts.bound.grpc_port}", knowledge_target[0]
    ) as ports:
        yield ports


@pytest.fixture
def form_url(channels_ports):
    return f"http://127.0.0.1:{channels_ports['web_form']}"


async def tally(channels_ports, who=SUPERVISOR):
    chan = grpcio.channel(f"127.0.0.1:{channels_ports['grpc']}")
    try:
        stub = channels_pb2_grpc.ChannelsStub(chan)
        return await stub.WebFormTally(channels_pb2.WebFormTallyRequest(days=1), metadata=who)
    finally:
        await chan.close()


@pytest.fixture
async def client(form_url):
    address = next(_addresses)
    async with aiohttp.ClientSession(base_url=form_url, headers={"X-Forwarded-For": address}) as session:
        yield session


async def test_a_json_form_becomes_one_anonymous_web_case(client, agent, database_url):
    before = counts(database_url)
    async with client.post("/intake", json=GOOD) as response:
        assert response.status == 201
        reference = (await response.json())["reference"]
    found = await agent.SearchCases(pb.SearchCasesRequest(reference=reference))
    (case,) = found.cases
    assert (case.channel, case.consumer_id, case.created_by) == ("web", "", "channels")
    assert case.reporter.email == "jane.roe@example.com"
    assert case.verbatim == GOOD["message"]
    assert case.issue_code == "complaint" and case.product.best_by == "2025-03-01"
    assert counts(database_url)[0] == before[0] + 1


async def test_a_browser_form_post_gets_a_page_with_the_reference(client):
    async with client.post("/intake", data={**GOOD, "topic": "compliment"}) as response:
        assert response.status == 201
        assert 'id="reference"' in await response.text()
    async with client.get("/intake") as response:
        assert response.status == 200 and "<form" in await response.text()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    async with client.get("/static/form.css") as response:
        assert response.status == 200 and "max-age" in response.headers["Cache-Control"]


async def test_what_was_typed_is_shown_back_escaped(client):
    hostile = {**GOOD, "name": '<script>alert("x")</script>', "purchased_on": "2099-01-01"}
    async with client.post("/intake", data=hostile) as response:
        page = await response.text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topic": "rant"}, "topic: choose one of"),
        ({"message": "  "}, "message: tell us"),
        ({"email": "", "phone": ""}, "give an email address or a phone number"),
        ({"email": "not-an-address"}, "reporter.email"),
        ({"lot_code": "L" * 65}, "product.lot_code: at most 64"),
        ({"best_by": "31/02/2025"}, "product.best_by"),
        ({"message": "bad \x00 byte here"}, "NUL"),
        ({"language": "english please"}, "language"),
        ({"colour": "red"}, "colour: not a field"),
        ({"name": 42}, "name: must be text"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_leaves_no_row(client, database_url, change, message):
    before = counts(database_url)
    async with client.post("/intake", json={**GOOD, **change}) as response:
        assert response.status == 400
        assert message in (await response.json())["error"]
    assert counts(database_url) == before


async def test_a_body_that_is_not_a_form_is_refused_clearly(client):
    async with client.post("/intake", data=b"\xff\xfe", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400 and (await r.json())["error"] == "the body is not valid JSON"
    async with client.post("/intake", data="x", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 400 and "application/json or as a web form" in await r.text()


async def test_a_bad_browser_form_is_shown_again_with_the_message_and_what_was_typed(client, database_url):
    before = counts(database_url)
    async with client.post("/intake", data={**GOOD, "purchased_on": "2099-01-01"}) as response:
        assert response.status == 400
        page = await response.text()
    assert "product.purchased_on: is in the future" in page and "Jane Roe" in page
    assert counts(database_url) == before


async def test_a_form_with_the_hidden_field_filled_is_answered_as_sent_and_kept_nowhere(client, database_url):
    # Only a bot fills the field a person never sees: it is told the form went through, so it learns
    # nothing to work around, and nothing is stored.
    before = counts(database_url)
    async with client.post("/intake", json={**GOOD, "website": "http://spam.example"}) as response:
        assert response.status == 201
        assert await response.json() == {"reference": 0}
    async with client.post("/intake", data={**GOOD, "website": "spam"}) as response:
        assert response.status == 201
        assert 'id="reference"' in await response.text()
    assert counts(database_url) == before


async def test_one_address_may_send_only_a_few_forms_a_minute(client):
    statuses = []
    for _ in range(6):
        async with client.post("/intake", json={**GOOD, "topic": "nope"}) as response:
            statuses.append(response.status)
            retry_after = response.headers.get("Retry-After")
    assert statuses == [400] * 5 + [429]
    assert int(retry_after) >= 1


def answer_log(knowledge_url: str, answer_id: int) -> tuple:
    with psycopg.connect(knowledge_url) as conn:
        return conn.execute(
            "SELECT outcome, article_id, score, channel FROM knowledge.answer_log WHERE id = %s", (answer_id,)
        ).fetchone()


def deflections(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM channels.web_form_answer WHERE outcome = 'deflected'"
        ).fetchone()[0]


async def test_a_question_gets_articles_and_a_deflection_is_counted_once(
    client, knowledge_target, database_url, channels_ports
):
    before_tally = await tally(channels_ports)
    async with client.get("/intake/suggest", params={"question": WHERE_TO_BUY, "language": "en"}) as r:
        assert r.status == 200
        found = await r.json()
    assert not found["safety"] and found["articles"]
    top = found["articles"][0]
    assert top["id"] == "oats-where-to-buy", [a["id"] for a in found["articles"]]
    before = deflections(database_url)
    posted = {"answer_id": found["answer_id"], "article_id": top["id"]}
    async with client.post("/intake/answered", json=posted) as r:
        assert r.status == 200 and await r.json() == {"counted": True}
    async with client.post("/intake/answered", json=posted) as r:
        assert r.status == 200 and await r.json() == {"counted": False}
    async with client.post("/intake/answered", data={k: str(v) for k, v in posted.items()}) as r:
        assert r.status == 200 and 'id="answered"' in await r.text()
    assert deflections(database_url) == before + 1
    outcome, article, score, channel = answer_log(knowledge_target[1], found["answer_id"])
    assert (outcome, article, channel) == ("resolved", top["id"], "web") and score > 0
    after_tally = await tally(channels_ports)
    assert after_tally.deflected == before_tally.deflected + 1
    assert after_tally.offered == before_tally.offered + 1
    assert top["id"] in [a.article_id for a in after_tally.articles]


async def test_only_supervisors_analysts_and_admins_see_the_tally(channels_ports):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await tally(channels_ports, AGENT)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    "question", ["my child got sick after eating it", "il y avait du plastique dans ma boîte"]
)
async def test_safety_wording_gets_no_suggestion_and_cannot_be_deflected(client, knowledge_target, question):
    async with client.get("/intake/suggest", params={"question": question}) as r:
        found = await r.json()
    assert found == {"safety": True, "articles": [], "answer_id": 0}
    with psycopg.connect(knowledge_target[1]) as conn:
        logged = conn.execute(
            "SELECT id, outcome, handoff_reason FROM knowledge.answer_log WHERE question = %s", (question,)
        ).fetchall()
    ((answer_id, outcome, reason),) = logged
    assert (outcome, reason) == ("handed_off", "safety")
    for article in ("oats-where-to-buy", "oats-ingredients"):
        async with client.post("/intake/answered", json={"answer_id": answer_id, "article_id": article}) as r:
            assert r.status == 404
    async with client.post("/intake", json={**GOOD, "message": question}) as r:
        assert r.status == 201


async def test_an_article_not_suggested_is_not_counted(client, database_url):
    before = deflections(database_url)
    async with client.post("/intake/answered", json={"answer_id": 999999, "article_id": "x"}) as r:
        assert r.status == 404
    async with client.post("/intake/answered", json={"answer_id": "one", "article_id": 3}) as r:
        assert r.status == 400 and "answer_id and article_id" in (await r.json())["error"]
    assert deflections(database_url) == before


async def test_without_javascript_the_form_shows_suggestions_and_sending_it_hands_the_answer_off(
    client, knowledge_target
):
    typed = {**GOOD, "topic": "question", "message": WHERE_TO_BUY, "action": "suggest"}
    async with client.post("/intake", data=typed) as r:
        assert r.status == 200
        page = await r.text()
    assert "These may answer your question" in page and "This answered my question" in page
    assert "Jane Roe" in page  # what was typed is kept
    answer_id = int(page.split('name="answer_id" id="answer_id" value="')[1].split('"')[0])
    del typed["action"]
    async with client.post("/intake", data={**typed, "answer_id": str(answer_id)}) as r:
        assert r.status == 201
    assert answer_log(knowledge_target[1], answer_id)[0] == "handed_off"


async def test_suggestions_have_their_own_budget_apart_from_the_forms(client):
    for _ in range(5):
        async with client.post("/intake", json={**GOOD, "topic": "nope"}) as r:
            assert r.status == 400
    async with client.get("/intake/suggest", params={"question": WHERE_TO_BUY}) as r:
        assert r.status == 200


async def test_a_question_in_french_gets_the_french_article_whatever_the_pages_language(client):
    typed = {**GOOD, "message": "où acheter les flocons d'avoine ?", "language": "en", "action": "suggest"}
    async with client.post("/intake", data=typed) as r:
        assert r.status == 200
        assert "Où acheter les flocons d&#39;avoine Golden Rolled Oats" in await r.text()


@pytest.mark.parametrize(
    "answer_id", [2**63, "99999999999999999999", -4, True, "\uff11\uff12"]
)  # the last: full-width digits
async def test_an_answer_id_that_cannot_be_one_is_refused_clearly_and_the_form_still_goes(client, answer_id):
    async with client.post("/intake/answered", json={"answer_id": answer_id, "article_id": "x"}) as r:
        assert r.status == 400 and "answer_id and article_id" in (await r.json())["error"]
    async with client.post("/intake", json={**GOOD, "answer_id": str(answer_id)}) as r:
        assert r.status == 201
