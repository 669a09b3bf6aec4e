"""The Knowledge gRPC API over a real channel, against the real database."""

from __future__ import annotations

import asyncio
import pathlib
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from crs.knowledge.v1 import knowledge_pb2 as pb
from crs.knowledge.v1 import knowledge_pb2_grpc

from services.knowledge import articles
from services.knowledge.__main__ import serve
from services.runtime.db import connect
from services.runtime.grpcio import channel
from services.runtime.principal import Principal
from tests.support import infra

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
ADMIN = Principal("kb.admin", "admin").metadata()
AGENT = Principal("kb.agent", "agent").metadata()
SUPERVISOR = Principal("kb.lead", "supervisor").metadata()


@dataclass
class Running:
    stub: knowledge_pb2_grpc.KnowledgeStub
    database_url: str
    first_codes: pb.SuggestCodesResponse  # asked as soon as the service said it was ready


@pytest_asyncio.fixture(scope="module")
async def running():
    # A database of its own: the first start on it trains the code model, which this module observes.
    with infra.migrated_database("crs_kb_api") as database_url:
        stop = asyncio.Event()
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(stop, database_url=database_url, bind="127.0.0.1:0", on_ready=ready.set_result)
        )
        port = await asyncio.wait_for(asyncio.shield(ready), 240)
        chan = channel(f"127.0.0.1:{port}", default_deadline=30)
        stub = knowledge_pb2_grpc.KnowledgeStub(chan)
        first_codes = await stub.SuggestCodes(pb.SuggestCodesRequest(verbatim="the lid will not open"))
        for path in sorted(DEMO.glob("*.md")):
            a = articles.parse_markdown(path.read_text())
            await stub.PutArticle(
                pb.PutArticleRequest(
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
        yield Running(stub, database_url, first_codes)
        await chan.close()
        stop.set()
        await task


@pytest.fixture
def knowledge(running):
    return running.stub


async def trained_suggestion(stub, verbatim, *, deadline_s=300.0):
    """Suggestions once the first code model is promoted; the service serves while it trains."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline_s
    while True:
        reply = await stub.SuggestCodes(pb.SuggestCodesRequest(verbatim=verbatim))
        if reply.model_version or loop.time() > until:
            return reply
        await asyncio.sleep(0.5)


def logged(database_url, log_id):
    with connect(database_url, schema="knowledge") as conn:
        return conn.execute(
            "SELECT article_id, score, outcome, handoff_reason FROM answer_log WHERE id = %s", (log_id,)
        ).fetchone()


async def test_a_question_is_answered_from_the_article_and_logged(knowledge, running):
    database_url = running.database_url
    reply = await knowledge.Ask(pb.AskRequest(question="where can I buy the 500 g oat clusters?"))
    assert not reply.hand_off and not reply.escalate
    assert reply.hits[0].article.id == "oats-where-to-buy"
    article_id, score, outcome, _ = logged(database_url, reply.log_id)
    assert (article_id, outcome) == ("oats-where-to-buy", "answered")
    assert score == pytest.approx(reply.confidence)
    await knowledge.RecordOutcome(pb.RecordOutcomeRequest(log_id=reply.log_id, outcome="resolved"))
    assert logged(database_url, reply.log_id)[2] == "resolved"


async def test_the_plastic_complaint_hands_off_and_suggests_the_plastic_code(knowledge, running):
    database_url = running.database_url
    question = "il y avait du plastique dans ma boîte"
    reply = await knowledge.Ask(pb.AskRequest(question=question))
    assert reply.hand_off and reply.hand_off_reason == "safety" and reply.answer == ""
    assert reply.escalate
    assert logged(database_url, reply.log_id)[2:] == ("handed_off", "safety")
    codes = await trained_suggestion(knowledge, question)
    assert "complaint.quality.foreign_object.plastic" in [c.code for c in codes.codes][:3]
    assert codes.model_version >= 1


async def test_writes_need_a_principal_and_follow_the_workflow(knowledge):
    draft = pb.PutArticleRequest(
        id="tea-where-to-buy",
        kind="where_to_buy",
        language="en",
        title="Where to buy English Breakfast Tea",
        body="In the hot drinks aisle.",
    )
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await knowledge.PutArticle(draft)
    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    written = await knowledge.PutArticle(draft, metadata=AGENT)
    assert (written.state, written.owner, written.version) == ("draft", "kb.agent", 1)
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await knowledge.Publish(pb.ChangeStateRequest(id=written.id, language="en"), metadata=SUPERVISOR)
    assert early.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await knowledge.Review(pb.ChangeStateRequest(id=written.id, language="en"), metadata=SUPERVISOR)
    published = await knowledge.Publish(
        pb.ChangeStateRequest(id=written.id, language="en"), metadata=SUPERVISOR
    )
    assert (published.state, published.reviewer) == ("published", "kb.lead")
    found = await knowledge.Search(pb.SearchRequest(query="where to buy breakfast tea", language="en"))
    assert found.hits[0].article.id == "tea-where-to-buy"


async def test_the_service_serves_before_its_first_code_model_is_trained(running):
    # Training on a fresh database takes a minute or more: readiness did not wait for it.
    assert (running.first_codes.model_version, list(running.first_codes.codes)) == (0, [])
    trained = await trained_suggestion(running.stub, "the lid will not open")
    assert trained.model_version >= 1 and len(trained.codes) == 3


async def test_a_restart_searches_with_the_stored_article_vectors(running):
    with connect(running.database_url, schema="knowledge") as conn:
        stored, published = conn.execute(
            "SELECT (SELECT count(*) FROM article_vector),"
            " (SELECT count(*) FROM article_version WHERE state = 'published')"
        ).fetchone()
    assert stored >= published > 0
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(stop, database_url=running.database_url, bind="127.0.0.1:0", on_ready=ready.set_result)
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 120)
    async with channel(f"127.0.0.1:{port}", default_deadline=30) as chan:
        found = await knowledge_pb2_grpc.KnowledgeStub(chan).Search(
            pb.SearchRequest(query="dans quel magasin trouver l'avoine golden", language="fr")
        )
    stop.set()
    await task
    assert (found.hits[0].article.id, found.hits[0].article.language) == ("oats-where-to-buy", "fr")


async def test_bad_input_gets_a_clear_error(knowledge):
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await knowledge.Ask(pb.AskRequest(question="   "))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = pb.PutArticleRequest(id="Not An Id", kind="general", language="en", title="t", body="b")
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await knowledge.PutArticle(bad, metadata=ADMIN)
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_supervisor_reads_how_the_logged_answers_ended(knowledge):
    reply = await knowledge.Ask(pb.AskRequest(question="where can I buy the oat clusters?", channel="email"))
    await knowledge.RecordOutcome(pb.RecordOutcomeRequest(log_id=reply.log_id, outcome="reopened"))
    report = await knowledge.AnswerReport(pb.AnswerReportRequest(days=1), metadata=SUPERVISOR)
    counts = {(c.channel, c.outcome, c.hand_off_reason): c.count for c in report.counts}
    assert counts[("email", "reopened", "")] == 1
    assert (report.days, report.threshold_changed_by) == (1, "migration")
    assert report.threshold_changed_at.startswith("20")
