"""A recall_opened event published on insights.events (real RabbitMQ) starts one recall-notice campaign to
the affected consumers (real PostgreSQL); the same event again adds nobody."""

from __future__ import annotations

import asyncio
import json
import pathlib
import time
import uuid
from datetime import UTC, datetime

import pytest

from services.outreach.campaigns_store import CampaignStore
from services.outreach.recalls import Purchase, Recall
from services.outreach.recalls_consume import RecallOpened, subscriptions
from services.outreach.recalls_store import RecallStore
from services.runtime import bus, migrate
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.support import infra

FIXTURE = pathlib.Path(__file__).parents[2] / "unit" / "outreach" / "fixtures" / "recall_opened.json"


class KnownAddresses:
    def __init__(self, known):
        self.known = known

    async def of(self, ids):
        return {i: (f"{i}@example.org", "UTC") for i in ids if i in self.known}


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_recall_bus")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


async def until(check, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("not seen before the deadline")


async def test_a_recall_opened_event_starts_a_notice_campaign_once(outreach_db):
    pool = await open_pool(outreach_db, schema="outreach", max_size=3)
    buyers = [str(uuid.uuid4()) for _ in range(3)]
    recalls, campaigns = RecallStore(pool), CampaignStore(pool)
    for n, who in enumerate(buyers):
        await recalls.take_purchases(f"o{n}", datetime.now(UTC), [Purchase(who, "OAT-500", "", "GB-ENG")])
    handler = RecallOpened(recalls, campaigns, KnownAddresses(set(buyers[:2])))
    event = Event(source="insights", type="recall_opened", data=json.loads(FIXTURE.read_text()))
    with infra.own_vhost("crs_outreach_recall") as amqp:
        connection = await bus.connect(amqp)
        handled = []

        async def counted(event):
            handled.append(await handler.take(event))

        (sub,) = subscriptions(handler)
        consumer = bus.Consumer(
            connection, "outreach", [bus.Subscription(sub.source, sub.event_type, counted)]
        )
        await consumer.start()
        publisher = await bus.Publisher(connection, "insights").open()
        try:
            await publisher.publish(event)
            await publisher.publish(event)  # a redelivery, as the outbox may give after a crash

            async def recipients():
                async with pool.connection() as conn:
                    rows = await (
                        await conn.execute(
                            "SELECT c.state, c.kind, r.email FROM campaign c"
                            " JOIN campaign_recipient r ON r.campaign_id = c.id WHERE c.key = 'recall:RC-2026-0007'"
                        )
                    ).fetchall()
                return rows if len(rows) >= 2 else None

            rows = await until(recipients)
            assert sorted(rows) == sorted(("running", "recall", f"{b}@example.org") for b in buyers[:2])

            # Both deliveries handled: still one campaign, no recipient twice.
            async def both_handled():
                return len(handled) == 2

            await until(both_handled)
            assert handled[0] == handled[1]
            assert len(await recipients()) == 2
        finally:
            await consumer.stop()
            await connection.close()
            await pool.close()


async def test_contacts_events_feed_the_contacts_read_model(outreach_db):
    from services.outreach import facts_consume

    pool = await open_pool(outreach_db, schema="outreach", max_size=2)
    recalls = RecallStore(pool)
    asked, contact = str(uuid.uuid4()), str(uuid.uuid4())
    case = {
        "id": contact,
        "consumer_id": asked,
        "issue_code": "complaint.quality",
        "product": {"sku": "OAT-500"},
    }
    handled = []
    created = facts_consume.subscriptions(recalls)[0]

    async def counted(event):
        await created.handler(event)
        handled.append(event.id)

    with infra.own_vhost("crs_outreach_facts") as amqp:
        connection = await bus.connect(amqp)
        consumer = bus.Consumer(
            connection, "outreach", [bus.Subscription("contacts", created.event_type, counted)]
        )
        await consumer.start()
        publisher = await bus.Publisher(connection, "contacts").open()
        try:
            await publisher.publish(Event(source="contacts", type="contact_created", data={"case": case}))
            await publisher.publish(Event(source="contacts", type="contact_created", data={"no": "case"}))

            async def both_handled():
                return len(handled) == 2

            await until(both_handled)
            recall = Recall.from_event(json.loads(FIXTURE.read_text()))
            assert asked in await recalls.affected(recall)
        finally:
            await consumer.stop()
            await connection.close()
            await pool.close()


async def test_fulfillments_order_events_feed_the_purchases_read_model(outreach_db):
    from services.outreach import facts_consume

    pool = await open_pool(outreach_db, schema="outreach", max_size=2)
    recalls = RecallStore(pool)
    buyer = str(uuid.uuid4())
    (sub,) = facts_consume.order_subscriptions(recalls)
    handled = []

    async def counted(event):
        await sub.handler(event)
        handled.append(event.id)

    order = {
        "order_id": str(uuid.uuid4()),
        "consumer_id": buyer,
        "placed_at": "2026-11-01T10:00:00+00:00",
        "region": "GB-WLS",
        "lines": [{"sku": "OAT-500", "lot_code": ""}, {"sku": "TEA-20", "lot_code": ""}],
    }
    with infra.own_vhost("crs_outreach_orders") as amqp:
        connection = await bus.connect(amqp)
        consumer = bus.Consumer(
            connection, "outreach", [bus.Subscription("fulfillment", sub.event_type, counted)]
        )
        await consumer.start()
        publisher = await bus.Publisher(connection, "fulfillment").open()
        try:
            await publisher.publish(Event(source="fulfillment", type="order_placed", data=order))
            await publisher.publish(Event(source="fulfillment", type="order_placed", data={"order_id": "x"}))

            async def both_handled():
                return len(handled) == 2

            await until(both_handled)
            recall = Recall.from_event(json.loads(FIXTURE.read_text()))
            assert buyer in await recalls.affected(recall)
        finally:
            await consumer.stop()
            await connection.close()
            await pool.close()
