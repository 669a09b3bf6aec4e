"""`python -m services.outreach` as `crs run` starts it, on real PostgreSQL and RabbitMQ: its queues are bound
to contacts', fulfillment's and insights' events, and a recall opened in insights shows as a running recall
campaign through the Campaigns gRPC API, addressed to the affected consumers the read model can reach."""

from __future__ import annotations

import json
import pathlib
import uuid

from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc

from services.outreach.consumers_store import ConsumerStore
from services.outreach.recalls import Recall
from services.outreach.recalls_store import RecallStore
from services.runtime import bus, grpcio
from services.runtime.db import open_pool
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.support import processes
from tests.support.wait import async_wait_for

FIXTURE = pathlib.Path(__file__).parents[2] / "unit" / "outreach" / "fixtures" / "recall_opened.json"
MO = Principal("mo", "analyst").metadata()


async def _campaign_of(pool, recall_id: str) -> str | None:
    """The recall's campaign once it is started: it is made, then addressed, then started."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT id FROM campaign WHERE key = %s AND state <> 'draft'", (f"recall:{recall_id}",)
            )
        ).fetchone()
    return str(row[0]) if row else None


async def test_a_recall_opened_in_insights_shows_as_a_running_recall_campaign(service_env, database_url):
    port = processes.free_port()
    env = dict(service_env, CRS_OUTREACH_GRPC=f"127.0.0.1:{port}")
    data = json.loads(FIXTURE.read_text())
    data["recall_id"] = f"RC-{uuid.uuid4().hex[:8]}"  # the session's database is shared with other tests
    recall = Recall.from_event(data)
    buyer, caller = str(uuid.uuid4()), str(uuid.uuid4())
    order = {
        "order_id": str(uuid.uuid4()),
        "consumer_id": buyer,
        "placed_at": "2026-11-01T10:00:00+00:00",
        "region": "GB-ENG",
        "lines": [{"sku": recall.sku, "lot_code": ""}],
    }
    case = {"id": str(uuid.uuid4()), "consumer_id": caller, "issue_code": "complaint.quality",
            "product": {"sku": "", "lot_code": recall.lot_codes[0]}}  # fmt: skip

    with processes.running(env, [("services.outreach", port)]):
        # Listening means its queues are bound: the process binds them before it serves.
        connection = await bus.connect(env["CRS_AMQP_URL"])
        channel = grpcio.channel(f"127.0.0.1:{port}", default_deadline=10)
        pool = await open_pool(database_url, schema="outreach", max_size=2)
        try:
            buyer_known = {"consumer": {"id": buyer, "emails": [{"address": "buyer@example.org"}]}}
            for source, kind, payload in (
                ("contacts", "consumer_created", buyer_known),
                ("fulfillment", "order_placed", order),
                ("contacts", "contact_created", {"case": case}),
                ("insights", "recall_opened", {"not": "a recall"}),  # logged and dropped; it keeps running
            ):
                publisher = await bus.Publisher(connection, source).open()
                await publisher.publish(Event(source=source, type=kind, data=payload))
            recalls = RecallStore(pool)
            audience = await async_wait_for(
                lambda: _both_in(recalls, recall, {buyer, caller}), timeout=20, what="the read models"
            )
            assert {buyer, caller} <= set(audience)
            consumers = ConsumerStore(pool)
            await async_wait_for(lambda: consumers.of([buyer]), timeout=20, what="the buyer's address")

            insights = await bus.Publisher(connection, "insights").open()
            await insights.publish(Event(source="insights", type="recall_opened", data=data))
            campaign_id = await async_wait_for(
                lambda: _campaign_of(pool, recall.recall_id), timeout=20, what="the recall campaign"
            )
            stub = campaigns_pb2_grpc.CampaignsStub(channel)

            async def started():
                request = pb.GetCampaignProgressRequest(campaign_id=campaign_id)
                return (await stub.GetCampaignProgress(request, metadata=MO)).state == "running"

            # The row exists a moment before the consumer approves and starts it.
            assert await async_wait_for(started, timeout=20, what="the recall campaign running")
            tally = await stub.RecallTally(pb.RecallTallyRequest(recall_id=recall.recall_id), metadata=MO)
            # The buyer has an address in the read model; the caller is known to contacts' cases alone, so
            # the notice cannot reach them by email. Nothing is sent until the sender runs.
            assert (tally.recall_id, tally.affected, tally.notified) == (recall.recall_id, 1, 0)
        finally:
            await pool.close()
            await channel.close()
            await connection.close()


async def _both_in(recalls: RecallStore, recall: Recall, wanted: set[str]) -> list[str] | None:
    found = await recalls.affected(recall)
    return found if wanted <= set(found) else None
