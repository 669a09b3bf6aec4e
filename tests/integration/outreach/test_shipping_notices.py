"""Fulfillment's shipment events through outreach's consumer (real RabbitMQ and PostgreSQL): a parcel
shipped then delivered, each event delivered twice, hands channels exactly two notices, in the consumer's
language and each with the tracking link."""

from __future__ import annotations

import uuid

import pytest

from services.outreach.reach import Reach
from services.outreach.shipping_desk import ShippingDesk, subscriptions
from services.outreach.shipping_store import ShippingStore
from services.runtime import bus, migrate
from services.runtime.db import open_pool
from services.runtime.events import now
from tests.support import infra
from tests.support.outreach_mail import shipment
from tests.support.wait import async_wait_for


class KnownConsumer:
    def __init__(self, consumer_id: str, reach: Reach):
        self.consumer_id, self.reach = consumer_id, reach

    async def of(self, consumer_ids):
        return {c: self.reach for c in consumer_ids if c == self.consumer_id}


class NobodyWithdrew:
    async def withdrawn(self, consumer_ids):
        return set()


class RecordingNotices:
    def __init__(self):
        self.sent = []

    async def send(self, notices):
        self.sent.extend(notices)
        return [True] * len(notices)


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_shipping")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


async def test_shipped_and_delivered_events_given_twice_hand_over_exactly_two_notices(outreach_db):
    pool = await open_pool(outreach_db, schema="outreach", max_size=3)
    parcel, consumer = str(uuid.uuid4()), str(uuid.uuid4())
    link = f"https://track.demo-carrier.example/parcel/CRS{parcel[:8]}"
    shipped, delivered = (
        shipment(parcel, consumer, state, status)
        for state, status in (("shipped", "label_created"), ("delivered", "delivered"))
    )
    notices, store = RecordingNotices(), ShippingStore(pool)
    desk = ShippingDesk(
        store,
        KnownConsumer(consumer, Reach("lena@example.org", "de-AT", "Europe/Vienna")),
        NobodyWithdrew(),
        notices,
        clock=now,
    )
    handled = []
    (sub,) = subscriptions(desk)

    async def counted(event):
        await sub.handler(event)
        handled.append(event.data["state"])

    with infra.own_vhost("crs_outreach_shipping") as amqp:
        connection = await bus.connect(amqp)
        consumer_of = bus.Consumer(
            connection, "outreach", [bus.Subscription(sub.source, sub.event_type, counted)]
        )
        await consumer_of.start()
        publisher = await bus.Publisher(connection, "fulfillment").open()
        try:
            for event in (shipped, delivered, shipped, delivered):  # the second pair: a redelivery or replay
                await publisher.publish(event)

            async def all_handled():
                return len(handled) == 4

            await async_wait_for(all_handled, timeout=20, what="the four deliveries handled")
            # Handled concurrently, as the consumer handles each message: the two may go in either order.
            assert sorted((n.to_address, n.subject, n.purpose) for n in notices.sent) == [
                ("lena@example.org", "Ihr Paket ist unterwegs", "service"),
                ("lena@example.org", "Ihr Paket wurde zugestellt", "service"),
            ]
            assert all(f"Sendungsverfolgung: {link}" in n.body for n in notices.sent)
            assert await store.outcomes(parcel) == {"shipped": ("sent", ""), "delivered": ("sent", "")}
            assert await desk.sweep() == []  # nothing left pending to send again
        finally:
            await consumer_of.stop()
            await connection.close()
            await pool.close()
