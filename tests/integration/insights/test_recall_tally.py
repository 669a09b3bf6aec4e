"""A recall's live tally through the insights process: fulfillment's order_placed events (built by the
fulfillment code that publishes them) feed the buyers read model, each order once however often it is
delivered, and GetRecallTally counts the consumers who bought the recalled product in its regions and the
contacts about its lots. An event that is not an order is dropped and the consumer keeps going."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.fulfillment.orders_import_store import order_placed
from services.runtime import bus, grpcio
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.integration.insights.test_early_warning_end_to_end import (  # noqa: F401 (fixtures)
    insights,
    insights_db,
    insights_vhost,
)
from tests.support.wait import async_wait_for


def _case(sku: str, lot: str) -> dict:
    return {
        "id": str(uuid.uuid4()), "version": 1, "channel": "phone", "issue_code": "complaint.quality.texture",
        "product": {"sku": sku, "lot_code": lot, "purchase_location": "Springfield, IL"},
        "occurred_at": datetime.now(UTC).isoformat(), "consumer_id": str(uuid.uuid4()),
    }  # fmt: skip


async def test_orders_feed_the_buyers_of_a_recall(insights, insights_vhost):  # noqa: F811
    sku = f"PB-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    ada, bob, cy, dee = (str(uuid.uuid4()) for _ in range(4))
    orders = [
        order_placed(str(uuid.uuid4()), ada, now, "Midwest", [sku, "FD-CRN-500"]),
        order_placed(str(uuid.uuid4()), ada, now, "Midwest", [sku]),  # ada again: one buyer
        order_placed(str(uuid.uuid4()), bob, now, "Midwest", [sku]),
        order_placed(str(uuid.uuid4()), cy, now, "Northeast", [sku]),  # outside the recall's region
        order_placed(str(uuid.uuid4()), dee, now, "Midwest", ["FD-CRN-500"]),
    ]
    chan = grpcio.channel(insights["CRS_INSIGHTS_GRPC"], default_deadline=10)
    stub = insights_pb2_grpc.InsightsStub(chan)
    sam = Principal("sam", "supervisor").metadata()
    connection = await bus.connect(insights_vhost)
    try:
        recall = await stub.OpenRecall(
            pb.OpenRecallRequest(
                sku=sku, lot_codes=["L3"], regions=["Midwest"], title="Peanut butter lot L3",
                script=["Stop eating it."], consumer_message="Do not eat lot L3.",
            ),
            metadata=sam,
        )  # fmt: skip
        fulfillment = await bus.Publisher(connection, "fulfillment").open()
        await fulfillment.publish(Event(source="fulfillment", type="order_placed", data={"order_id": "x"}))
        for event in orders:
            await fulfillment.publish(event)
        await fulfillment.publish(orders[2])  # delivered twice
        contacts = await bus.Publisher(connection, "contacts").open()
        for lot in ("L3", "L3", "L1"):
            await contacts.publish(
                Event(source="contacts", type="contact_created", data={"case": _case(sku, lot)})
            )

        ask = pb.GetRecallTallyRequest(recall_id=recall.id)
        ada_agent = Principal("ada", "agent").metadata()

        async def counted():
            tally = await stub.GetRecallTally(ask, metadata=ada_agent)
            return tally if (tally.buyers, tally.contacts) == (2, 2) else None

        tally = await async_wait_for(counted, timeout=30, what="two buyers and two contacts in the tally")
        assert tally.recall_id == recall.id
    finally:
        await connection.close()
        await chan.close()
