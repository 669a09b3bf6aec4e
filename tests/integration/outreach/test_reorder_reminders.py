"""Reorder reminders over real PostgreSQL with an injected clock: a 30-day cadence reminds on the expected
day and not before, a restart at that moment does not send it twice, and no consent means no reminder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.outreach.campaigns import Recipient
from services.outreach.reorder_desk import ReorderDesk
from tests.support.survey_harness import START, Clock, open_store, outreach_database


@pytest.fixture(scope="module")
def database_url():
    with outreach_database("crs_surveys_reorder") as url:
        yield url


class Mailbox:
    def __init__(self, consented: set[str]):
        self.consented, self.sent = consented, []

    async def recipient(self, consumer_id: str, now) -> Recipient:
        purposes = frozenset({"marketing"} if consumer_id in self.consented else ())
        return Recipient(consumer_id, f"{consumer_id}@example.org", "UTC", purposes)

    async def send(self, reminder) -> None:
        self.sent.append((reminder.consumer_id, reminder.sku, reminder.expected_at))


async def test_a_thirty_day_cadence_reminds_on_the_day_and_a_restart_does_not_double_it(database_url):
    clock, mailbox = Clock(START), Mailbox({"con-1"})
    store = await open_store(database_url)
    desk = ReorderDesk(store, clock=clock, recipient=mailbox.recipient, send=mailbox.send)
    for n in range(3):
        await desk.on_order(f"o-{n}", "con-1", START + timedelta(days=30 * n), ["SKU-COFFEE"])
    await desk.on_order("o-2", "con-1", START + timedelta(days=60), ["SKU-COFFEE"])  # redelivered

    clock.now = START + timedelta(days=87) - timedelta(minutes=1)
    assert await desk.due() == []
    clock.now = START + timedelta(days=87)
    (reminder,) = await desk.due()
    assert reminder.expected_at == START + timedelta(days=90)
    await store.pool.close()

    restarted = await open_store(database_url)  # the process restarts at that very moment
    again = ReorderDesk(restarted, clock=clock, recipient=mailbox.recipient, send=mailbox.send)
    assert await again.due() == []
    clock.advance(timedelta(days=5))
    assert await again.due() == []
    assert mailbox.sent == [("con-1", "SKU-COFFEE", START + timedelta(days=90))]
    await restarted.pool.close()


async def test_no_marketing_consent_or_a_new_order_means_no_reminder(database_url):
    clock, mailbox = Clock(START), Mailbox({"con-3"})
    store = await open_store(database_url)
    desk = ReorderDesk(store, clock=clock, recipient=mailbox.recipient, send=mailbox.send)
    for n in range(2):
        await desk.on_order(f"p-{n}", "con-2", START + timedelta(days=30 * n), ["SKU-TEA"])
        await desk.on_order(f"q-{n}", "con-3", START + timedelta(days=30 * n), ["SKU-TEA"])
    await desk.on_order("q-2", "con-3", START + timedelta(days=50), ["SKU-TEA"])  # ordered early: new cycle
    clock.now = START + timedelta(days=58)
    assert await desk.due() == []  # con-2 has no consent; con-3's first cycle is stale
    clock.now = START + timedelta(days=50 + 25 - 3)  # gaps 30 and 20: median 25, so due on day 72
    assert [(r.consumer_id, r.sku) for r in await desk.due()] == [("con-3", "SKU-TEA")]
    assert mailbox.sent == [("con-3", "SKU-TEA", START + timedelta(days=75))]
    await store.pool.close()
