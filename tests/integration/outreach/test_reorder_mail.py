"""Reorder reminders through the outreach process, channels and the mail sink (real PostgreSQL, RabbitMQ and
channels), on an injected clock: fulfillment's orders on days 0, 30 and 60 (a 30-day cadence) are a
reminder on day 87, three days before the expected reorder, and not on day 86; the process restarted at
that moment does not send it again.

"Nothing yet" and "nothing more" are read from marker consumers whose reminders fall due at the same sweep:
once a marker's reminder is in the sink, that sweep has run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from services.outreach.consent import Change
from services.outreach.consumers import ConsumerRow
from services.outreach.consumers_store import ConsumerStore
from services.runtime import bus
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.support.outreach_mail import outreach_running, sink_mail
from tests.support.survey_harness import Clock
from tests.support.wait import async_wait_for

DAY_0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SKU = "OAT-1KG"


def order(consumer_id: str, day: int) -> Event:
    data = {"order_id": str(uuid.uuid4()), "consumer_id": consumer_id, "region": "GB-ENG",
            "placed_at": (DAY_0 + timedelta(days=day)).isoformat(), "lines": [{"sku": SKU, "lot_code": ""}]}  # fmt: skip
    return Event(source="fulfillment", type="order_placed", data=data)


def planned_for(database_url: str, consumer_id: str, last_day: int) -> bool:
    """Whether the reminder of the cycle that starts at the order of `last_day` is claimed."""
    key = f"reorder:{consumer_id}:{SKU}:{(DAY_0 + timedelta(days=last_day)).isoformat()}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM outreach.reorder_reminder WHERE key = %s", (key,)).fetchone())


async def test_a_thirty_day_cadence_reminds_on_day_87_once_across_a_restart(mail_path):
    run = uuid.uuid4().hex[:8]
    ann, before, after = (str(uuid.uuid4()) for _ in range(3))
    people = {ann: f"ann-{run}", before: f"bo-{run}b", after: f"cy-{run}c"}
    clock = Clock(DAY_0)
    env = dict(mail_path.env, CRS_OUTREACH_REORDER_SWEEP_SECONDS="0.2")
    connection = await bus.connect(env["CRS_AMQP_URL"])
    pool = await open_pool(mail_path.database_url, schema="outreach", max_size=2)
    consumers = ConsumerStore(pool)

    async def mailed(who: str):
        return await async_wait_for(lambda: _mail(who), timeout=30, what=f"a reminder to {who}")

    async def _mail(who: str):
        return sink_mail(mail_path.sink, who.split("-", 1)[1])

    async def planned():
        return planned_for(mail_path.database_url, ann, 60) and planned_for(
            mail_path.database_url, before, 59
        )

    try:
        for who, name in people.items():
            await consumers.take(
                ConsumerRow(who, f"{name}@example.org", "en", "Europe/London", "GB-ENG", DAY_0)
            )
            await consumers.change(Change(who, "marketing", "email", True, "web_form", "service:test", DAY_0))
        async with outreach_running(env, mail_path.channels, clock=clock):
            fulfillment = await bus.Publisher(connection, "fulfillment").open()
            for who, days in ((ann, (0, 30, 60)), (before, (-1, 29, 59))):
                for day in days:
                    await fulfillment.publish(order(who, day))
            await async_wait_for(planned, timeout=20, what="both cycles planned")
            clock.advance(timedelta(days=86, minutes=1))  # the marker's day 86: its reminder, and not Ann's
            await mailed(people[before])
            assert sink_mail(mail_path.sink, run) == []
            clock.advance(timedelta(days=1))  # day 87
            [reminder] = await mailed(people[ann])
            assert reminder["Subject"] == f"Time to reorder {SKU}?"
            assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        async with outreach_running(env, mail_path.channels, clock=clock):  # restarted, still day 87
            for day in (-2, 28, 58):
                await fulfillment.publish(order(after, day))
            await mailed(people[after])
            assert len(sink_mail(mail_path.sink, run)) == 1
    finally:
        await pool.close()
        await connection.close()
