"""Search over verbatims and filters, the early warning, and SLA breaches, over gRPC against PostgreSQL.

Searching by product, lot, words and dates across the centre is quality assurance's: an analyst's."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import grpc
from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from services.contacts.casework.wiring import CaseworkParts, CaseworkSettings
from services.contacts.consumers.lookup import DirectoryLookup
from services.contacts.consumers.store import ContactsStore
from services.runtime import db
from tests.integration.contacts.case_support import ids
from tests.support.wait import async_wait_for


def casework_parts(pool, *, sweep_seconds: float = 3600.0, clock=None) -> CaseworkParts:
    """Casework over its own pool, beside the running service, with its own SLA schedule and clock."""
    settings = CaseworkSettings(sla_sweep_seconds=sweep_seconds)
    consumers = DirectoryLookup(ContactsStore(pool), region="US")
    return CaseworkParts(pool, consumers=consumers, settings=settings, **({"clock": clock} if clock else {}))


def when(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


async def test_verbatims_are_searched_with_the_stemming_of_their_language(agent, analyst):
    lot = uuid.uuid4().hex[:8]
    english = await agent.capture(
        product=pb.Product(sku="FL-1L", lot_code=lot),
        issue_code="complaint.packaging.leaking",
        verbatim="The bottles leaked all over my cupboard.",
        language="en",
    )
    french = await agent.capture(
        product=pb.Product(sku="FL-1L", lot_code=lot),
        issue_code="complaint.packaging.leaking",
        verbatim="Les bouteilles fuyaient dans le placard.",
        language="fr-CA",
    )
    found = await analyst.SearchCases(pb.SearchCasesRequest(text="leaking bottle", lot_code=lot))
    assert ids(found) == [english.id]
    found = await analyst.SearchCases(pb.SearchCasesRequest(text="bouteille", lot_code=lot, language="fr"))
    assert ids(found) == [french.id]
    found = await analyst.SearchCases(pb.SearchCasesRequest(text="bouteille", lot_code=lot))
    assert ids(found) == [french.id]
    found = await analyst.SearchCases(pb.SearchCasesRequest(lot_code=lot))
    assert ids(found) == [french.id, english.id]  # newest first


async def test_filters_by_code_product_status_channel_and_dates(agent, analyst):
    sku = "SKU-" + uuid.uuid4().hex[:6]
    plastic = await agent.capture(product=pb.Product(sku=sku, lot_code="A1"), channel="email")
    texture = await agent.capture(
        product=pb.Product(sku=sku, lot_code="A2"), issue_code="complaint.quality.texture", channel="letter"
    )
    praise = await agent.capture(
        product=pb.Product(sku=sku),
        issue_code="compliment.product",
        channel="phone",
        occurred_at=when("2020-01-15T10:00:00Z"),
    )
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=texture.id, status="in_progress"))
    found = await analyst.SearchCases(pb.SearchCasesRequest(product=sku, issue_code="complaint.quality"))
    assert sorted(ids(found)) == sorted([plastic.id, texture.id])
    found = await analyst.SearchCases(pb.SearchCasesRequest(product=sku, status="in_progress"))
    assert ids(found) == [texture.id]
    assert ids(await analyst.SearchCases(pb.SearchCasesRequest(product=sku, channel="email"))) == [plastic.id]
    before_2021 = pb.SearchCasesRequest(product=sku, to=when("2021-01-01T00:00:00Z"))
    assert ids(await analyst.SearchCases(before_2021)) == [praise.id]
    since_2021 = pb.SearchCasesRequest(product=sku)
    getattr(since_2021, "from").CopyFrom(when("2021-01-01T00:00:00Z"))
    assert praise.id not in ids(await analyst.SearchCases(since_2021))
    bad = await analyst.refused("SearchCases", pb.SearchCasesRequest(status="nope"))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "status" in bad.details()
    bad = await analyst.refused("SearchCases", pb.SearchCasesRequest(limit=100_000))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "limit" in bad.details()


async def test_open_only_leaves_out_resolved_and_closed_cases(agent, analyst):
    sku = "OPEN-" + uuid.uuid4().hex[:6]
    open_case = await agent.capture(product=pb.Product(sku=sku))
    done = await agent.capture(product=pb.Product(sku=sku))
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=done.id, status="resolved"))
    assert ids(await analyst.SearchCases(pb.SearchCasesRequest(product=sku, open_only=True))) == [
        open_case.id
    ]
    assert len(ids(await analyst.SearchCases(pb.SearchCasesRequest(product=sku)))) == 2


async def test_sql_looking_text_is_stored_and_searched_verbatim(agent, analyst):
    words = "Robert'); DROP TABLE contact;-- said the pack was empty"
    case = await agent.capture(issue_code="complaint.packaging.under_filled", verbatim=words)
    assert (await agent.GetCase(pb.GetCaseRequest(id=case.id))).verbatim == words
    assert case.id in ids(await analyst.SearchCases(pb.SearchCasesRequest(text="DROP TABLE")))


async def test_a_lot_with_many_complaints_is_flagged_early(agent, supervisor):
    lot = "EW" + uuid.uuid4().hex[:6]
    for _ in range(3):
        await agent.capture(product=pb.Product(sku="COC-500", lot_code=lot))
    await agent.capture(product=pb.Product(sku="COC-500", lot_code=lot), issue_code="compliment.product")
    found = await supervisor.GetEarlyWarning(pb.GetEarlyWarningRequest(days=7, threshold=3))
    assert (found.days, found.threshold, found.issue_code) == (7, 3, "complaint")
    (cluster,) = [c for c in found.clusters if c.lot_code == lot]
    assert (cluster.product_sku, cluster.contacts) == ("COC-500", 3)  # the compliment is not a complaint
    assert list(cluster.issue_codes) == ["complaint.quality.foreign_object.plastic"]
    assert cluster.first_at.ToDatetime() <= cluster.last_at.ToDatetime()
    higher = await supervisor.GetEarlyWarning(pb.GetEarlyWarningRequest(days=7, threshold=4))
    assert lot not in [c.lot_code for c in higher.clusters]
    bad = await supervisor.refused("GetEarlyWarning", pb.GetEarlyWarningRequest(days=400))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "days" in bad.details()


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
        await agent.AddAction(pb.AddActionRequest(id=answered.id, action_code="called_back"))
        casework = casework_parts(pool).casework
        await casework.sweep_sla(now=datetime.now(UTC) + timedelta(hours=2))
        missed = await agent.GetCase(pb.GetCaseRequest(id=glass.id))
        assert missed.sla_breach == "first_response" and missed.HasField("sla_breached_at")
        assert not (await agent.GetCase(pb.GetCaseRequest(id=answered.id))).HasField("sla_breached_at")
        await casework.sweep_sla(now=datetime.now(UTC) + timedelta(days=2))
        assert (await agent.GetCase(pb.GetCaseRequest(id=answered.id))).sla_breach == "resolution"
        kinds = [e.kind for e in (await agent.GetTimeline(pb.GetTimelineRequest(id=glass.id))).events]
        assert kinds[-1] == "sla_breached"
        breached: dict[str, str] = {}

        async def both_published():
            message = await queue.get(fail=False)
            if message:
                await message.ack()
                data = json.loads(message.body)["data"]
                breached[data["contact_id"]] = data["breach"]
            return glass.id in breached and answered.id in breached

        await async_wait_for(both_published, timeout=15, what="sla_breached events")
        assert breached[glass.id] == "first_response" and breached[answered.id] == "resolution"
    finally:
        await pool.close()
        await connection.close()


async def test_the_sweep_runs_on_its_own_schedule_at_the_clock_s_time(database_url, agent):
    pool = await db.open_pool(database_url, schema="contacts")
    later = [datetime.now(UTC) + timedelta(hours=2)]
    parts = casework_parts(pool, sweep_seconds=0.05, clock=lambda: later[0])
    try:
        first = await agent.capture(
            issue_code="complaint.quality.foreign_object.glass"
        )  # due within the hour
        parts.start()

        async def flagged(case_id):
            case = await agent.GetCase(pb.GetCaseRequest(id=case_id))
            return case if case.sla_breach else None

        missed = await async_wait_for(lambda: flagged(first.id), timeout=15, what="the scheduled sweep")
        assert missed.sla_breach == "first_response"
        assert missed.sla_breached_at.ToDatetime(tzinfo=UTC) == later[0]  # the clock's time, not the wall's
        rounds = parts.sweeper.rounds
        # A case captured after that round is caught by a later one, with nobody calling the sweep.
        second = await agent.capture(issue_code="complaint.quality.foreign_object.glass")
        later[0] = datetime.now(UTC) + timedelta(hours=3)
        await async_wait_for(lambda: flagged(second.id), timeout=15, what="a later round of the sweep")
        assert parts.sweeper.rounds > rounds
    finally:
        await parts.stop()
        await pool.close()
