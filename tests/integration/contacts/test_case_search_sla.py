"""Search over verbatims and filters, and SLA breaches, against the real service and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import aiohttp
import grpc
import pytest
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc

from services.contacts import sla
from services.contacts.case_store import CaseStore
from services.runtime import db, grpcio
from tests.integration.contacts.case_support import Api
from tests.support.wait import async_wait_for


@pytest.fixture
async def agent(contacts):
    async with aiohttp.ClientSession() as session:
        yield Api(contacts.http_url, session, "alice")


def ids(found: dict) -> list[str]:
    return [c["id"] for c in found["cases"]]


async def test_verbatims_are_searched_with_the_stemming_of_their_language(agent):
    lot = uuid.uuid4().hex[:8]
    english = await agent.capture(
        product={"sku": "FL-1L", "lot_code": lot},
        issue_code="complaint.packaging.leaking",
        verbatim="The bottles leaked all over my cupboard.",
        language="en",
    )
    french = await agent.capture(
        product={"sku": "FL-1L", "lot_code": lot},
        issue_code="complaint.packaging.leaking",
        verbatim="Les bouteilles fuyaient dans le placard.",
        language="fr-CA",
    )
    found = await agent.get("/api/contacts", {"text": "leaking bottle", "lot_code": lot})
    assert ids(found) == [english["id"]]
    found = await agent.get("/api/contacts", {"text": "bouteille", "lot_code": lot, "language": "fr"})
    assert ids(found) == [french["id"]]
    found = await agent.get("/api/contacts", {"text": "bouteille", "lot_code": lot})
    assert ids(found) == [french["id"]]
    found = await agent.get("/api/contacts", {"lot_code": lot})
    assert ids(found) == [french["id"], english["id"]]  # newest first


async def test_filters_by_code_product_status_channel_and_dates(agent):
    sku = "SKU-" + uuid.uuid4().hex[:6]
    plastic = await agent.capture(product={"sku": sku, "lot_code": "A1"}, channel="email")
    texture = await agent.capture(
        product={"sku": sku, "lot_code": "A2"}, issue_code="complaint.quality.texture", channel="letter"
    )
    praise = await agent.capture(
        product={"sku": sku},
        issue_code="compliment.product",
        channel="phone",
        occurred_at="2020-01-15T10:00:00Z",
    )
    await agent.post(f"/api/contacts/{texture['id']}/status", {"status": "in_progress"})
    assert set(
        ids(await agent.get("/api/contacts", {"product": sku, "issue_code": "complaint.quality"}))
    ) == {plastic["id"], texture["id"]}
    assert ids(await agent.get("/api/contacts", {"product": sku, "status": "in_progress"})) == [texture["id"]]
    assert ids(await agent.get("/api/contacts", {"product": sku, "channel": "email"})) == [plastic["id"]]
    assert ids(await agent.get("/api/contacts", {"product": sku, "to": "2021-01-01T00:00:00Z"})) == [
        praise["id"]
    ]
    assert praise["id"] not in ids(
        await agent.get("/api/contacts", {"product": sku, "from": "2021-01-01T00:00:00Z"})
    )
    status, body = await agent.call("GET", "/api/contacts", params={"status": "nope"})
    assert status == 400 and "status" in body["error"]
    status, body = await agent.call("GET", "/api/contacts", params={"from": "yesterday"})
    assert status == 400 and "from" in body["error"]


async def test_sql_looking_text_is_stored_and_searched_verbatim(agent):
    words = "Robert'); DROP TABLE contact;-- said the pack was empty"
    case = await agent.capture(issue_code="complaint.packaging.under_filled", verbatim=words)
    assert (await agent.get(f"/api/contacts/{case['id']}"))["verbatim"] == words
    assert case["id"] in ids(await agent.get("/api/contacts", {"text": "DROP TABLE"}))


async def test_a_lot_with_many_complaints_is_flagged_early(agent):
    lot = "EW" + uuid.uuid4().hex[:6]
    for _ in range(3):
        await agent.capture(product={"sku": "COC-500", "lot_code": lot})
    found = await agent.get("/api/early-warning", {"days": 7, "threshold": 3})
    assert {"product_sku": "COC-500", "lot_code": lot, "contacts": 3} in [
        {k: c[k] for k in ("product_sku", "lot_code", "contacts")} for c in found["clusters"]
    ]


async def test_a_missed_due_time_flags_the_case_and_publishes_sla_breached(
    contacts, database_url, amqp_url, agent
):
    connection = await aio_pika.connect_robust(amqp_url)
    pool = await db.open_pool(database_url, schema="contacts")
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "contacts.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "sla_breached")
        glass = await agent.capture(
            issue_code="complaint.quality.foreign_object.glass"
        )  # critical: 1 h, 1 day
        answered = await agent.capture(issue_code="complaint.quality.foreign_object.glass")
        await agent.post(f"/api/contacts/{answered['id']}/actions", {"action_code": "called_back"})
        store = CaseStore(pool)
        await sla.sweep(store=store, now=datetime.now(UTC) + timedelta(hours=2))
        missed = await agent.get(f"/api/contacts/{glass['id']}")
        assert missed["sla_breach"] == "first_response" and missed["sla_breached_at"]
        assert (await agent.get(f"/api/contacts/{answered['id']}"))["sla_breached_at"] is None
        await sla.sweep(store=store, now=datetime.now(UTC) + timedelta(days=2))
        assert (await agent.get(f"/api/contacts/{answered['id']}"))["sla_breach"] == "resolution"
        kinds = [e["kind"] for e in (await agent.get(f"/api/contacts/{glass['id']}/timeline"))["events"]]
        assert kinds[-1] == "sla_breached"
        breached: dict[str, str] = {}

        async def both_published():
            message = await queue.get(fail=False)
            if message:
                await message.ack()
                data = json.loads(message.body)["data"]
                breached[data["contact_id"]] = data["breach"]
            return glass["id"] in breached and answered["id"] in breached

        await async_wait_for(both_published, timeout=15, what="sla_breached events")
        assert breached[glass["id"]] == "first_response" and breached[answered["id"]] == "resolution"
    finally:
        await pool.close()
        await connection.close()


async def test_casework_over_grpc(contacts):
    async with grpcio.channel(f"127.0.0.1:{contacts.bound.grpc_port}") as channel:
        stub = casework_pb2_grpc.CaseworkStub(channel)
        lot = "G" + uuid.uuid4().hex[:6]
        created = await stub.CreateCase(
            pb.CreateCaseRequest(
                case=pb.Case(
                    issue_code="complaint.quality.mould_spoilage",
                    channel="email",
                    verbatim="Green mould inside",
                    product=pb.Product(sku="BR-400", lot_code=lot),
                ),
                actor="mailroom",
            )
        )
        assert created.severity == "high" and created.created_by == "mailroom"
        await stub.ChangeStatus(
            pb.ChangeStatusRequest(id=created.id, status="awaiting_fulfillment", actor="mailroom")
        )
        timeline = await stub.GetTimeline(pb.GetTimelineRequest(id=created.id))
        assert [e.kind for e in timeline.events] == ["created", "status"]
        found = await stub.SearchCases(pb.SearchCasesRequest(lot_code=lot, text="moulds"))
        assert [c.id for c in found.cases] == [created.id]
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.CreateCase(pb.CreateCaseRequest(case=pb.Case(issue_code="complaint.nope")))
        assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "issue_code" in failed.value.details()
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.ChangeStatus(pb.ChangeStatusRequest(id=created.id, status="new"))
        assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
