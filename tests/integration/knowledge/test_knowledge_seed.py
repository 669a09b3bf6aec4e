"""`crs seed --demo` for knowledge: the demo articles published with no service running, then served."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from crs.knowledge.v1 import knowledge_pb2 as pb
from crs.knowledge.v1 import knowledge_pb2_grpc

from services.knowledge import seed
from services.knowledge.__main__ import serve
from services.runtime.db import connect
from services.runtime.grpcio import channel
from tests.support import infra


@pytest.fixture(scope="module")
def seeded_database():
    with infra.migrated_database("crs_kb_seed") as database_url:
        seed.seed_demo(database_url)
        seed.seed_demo(database_url)
        yield database_url


def stored_versions(database_url):
    with connect(database_url, schema="knowledge") as conn:
        return conn.execute(
            "SELECT article_id, language, version, state FROM article_version ORDER BY 1, 2"
        ).fetchall()


def test_seeding_twice_publishes_each_demo_article_once(seeded_database):
    expected = sorted((a.id, a.language) for a in seed.demo_articles())
    assert len(expected) >= 15
    assert stored_versions(seeded_database) == [(i, lang, 1, "published") for i, lang in expected]


async def test_a_service_started_on_the_seeded_database_answers_from_the_demo_articles(seeded_database):
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(stop, database_url=seeded_database, bind="127.0.0.1:0", on_ready=ready.set_result)
    )
    try:
        port = await asyncio.wait_for(asyncio.shield(ready), 240)
        async with channel(f"127.0.0.1:{port}", default_deadline=30) as chan:
            stub = knowledge_pb2_grpc.KnowledgeStub(chan)
            reply = await stub.Ask(pb.AskRequest(question="where can I buy the 500 g oat clusters?"))
    except grpc.RpcError as exc:
        pytest.fail(f"the knowledge service did not answer: {exc}")
    finally:
        stop.set()
        await task
    assert not reply.hand_off
    assert reply.hits[0].article.id == "oats-where-to-buy"
    assert "oat" in reply.answer.lower()
    # The service encoded the seeded versions at start and kept their vectors for the next one.
    with connect(seeded_database, schema="knowledge") as conn:
        vectors = conn.execute("SELECT count(*) FROM article_vector").fetchone()[0]
    assert vectors == len(stored_versions(seeded_database))
