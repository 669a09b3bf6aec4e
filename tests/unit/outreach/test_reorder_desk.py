"""The reorder sweep decides each due reminder by the campaigns' marketing rule, through fakes on an injected
clock: quiet hours in the consumer's own time zone keep it due until the sweep after they end; the
frequency cap and a missing consent hold it back for the cycle, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from services.outreach.campaigns import Recipient
from services.outreach.reorder_desk import ReorderDesk

# Orders at 13:00 UTC on days 0, 30 and 60: the reminder is due at 13:00 UTC on day 87, which is 22:00
# in Tokyo (quiet) and 13:00 in London (not).
DAY_0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
DUE = DAY_0 + timedelta(days=87)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Row:
    reminder: object
    sent_at: datetime | None = None
    held_back: str = ""


@dataclass
class Store:
    purchases: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    rows: dict[str, Row] = field(default_factory=dict)

    async def add_purchase(self, order_id, sku, consumer_id, at) -> None:
        self.purchases.setdefault((consumer_id, sku), []).append(at)

    async def order_times(self, consumer_id, sku) -> list[datetime]:
        return sorted(self.purchases.get((consumer_id, sku), []))

    async def claim_reminder(self, reminder) -> bool:
        return self.rows.setdefault(reminder.key, Row(reminder)).reminder is reminder

    async def due_reminders(self, now):
        return [
            r.reminder
            for r in self.rows.values()
            if not r.sent_at and not r.held_back and r.reminder.remind_at <= now
        ]

    async def hold_back_reminder(self, key, reason) -> None:
        self.rows[key].held_back = reason

    async def defer_reminder(self, key, until) -> None:
        self.rows[key].reminder = replace(self.rows[key].reminder, remind_at=until)

    async def mark_reminder_sent(self, key, at) -> bool:
        if self.rows[key].sent_at:
            return False
        self.rows[key].sent_at = at
        return True

    def held_back(self) -> dict[str, str]:
        """Why each consumer's reminder of the cycle after day 60 was held back (the earlier ones were
        overtaken by the next order)."""
        return {
            r.reminder.consumer_id: r.held_back
            for r in self.rows.values()
            if r.held_back and r.reminder.last_order_at == DAY_0 + timedelta(days=60)
        }


@dataclass
class Consumers:
    """Each consumer's standing as the campaign sender sees it."""

    known: dict[str, Recipient]
    sent: list[str] = field(default_factory=list)

    async def recipient(self, consumer_id: str, now: datetime) -> Recipient:
        return self.known[consumer_id]

    async def send(self, reminder) -> None:
        self.sent.append(reminder.consumer_id)


def consenting(who: str, zone: str, sent_in_window: int = 0) -> Recipient:
    return Recipient(who, f"{who}@example.org", zone, frozenset({"marketing"}), sent_in_window)


async def desk_with(consumers: Consumers, clock: Clock) -> tuple[ReorderDesk, Store]:
    store = Store()
    desk = ReorderDesk(store, clock=clock, recipient=consumers.recipient, send=consumers.send)
    for who in consumers.known:
        for n in range(3):
            await desk.on_order(f"{who}-{n}", who, DAY_0 + timedelta(days=30 * n), ["OAT-1KG"])
    return desk, store


async def test_a_reminder_in_the_consumers_quiet_hours_stays_due_and_goes_at_the_first_sweep_after():
    clock = Clock(DUE)
    consumers = Consumers(
        {"kenji": consenting("kenji", "Asia/Tokyo"), "ann": consenting("ann", "Europe/London")}
    )
    desk, store = await desk_with(consumers, clock)

    assert [r.consumer_id for r in await desk.due()] == ["ann"]
    # Kenji's waits for the end of the night, out of the due sweeps' way until then.
    assert {
        r.reminder.consumer_id: r.reminder.remind_at
        for r in store.rows.values()
        if not r.sent_at and r.reminder.last_order_at == DAY_0 + timedelta(days=60)
    } == {"kenji": DUE + timedelta(hours=10)}
    clock.now = DUE + timedelta(hours=9, minutes=59)  # 07:59 in Tokyo
    assert await desk.due() == []
    clock.now = DUE + timedelta(hours=10)  # 08:00 in Tokyo: quiet hours are over
    assert [r.consumer_id for r in await desk.due()] == ["kenji"]
    assert consumers.sent == ["ann", "kenji"] and store.held_back() == {}


async def test_over_the_frequency_cap_a_reminder_is_held_back_for_the_cycle_with_its_reason():
    clock = Clock(DUE)
    consumers = Consumers({"bo": consenting("bo", "UTC", sent_in_window=3), "cy": consenting("cy", "UTC", 2)})
    desk, store = await desk_with(consumers, clock)

    assert [r.consumer_id for r in await desk.due()] == ["cy"]
    assert store.held_back() == {"bo": "frequency cap"}
    clock.now = DUE + timedelta(days=2)
    assert await desk.due() == [] and consumers.sent == ["cy"]


async def test_no_consent_or_no_address_holds_the_reminder_back_and_sends_nothing():
    clock = Clock(DUE)
    consumers = Consumers(
        {
            "di": Recipient("di", "di@example.org", "UTC"),
            "ed": Recipient("ed", "", "UTC", frozenset({"marketing"})),
        }
    )
    desk, store = await desk_with(consumers, clock)

    assert await desk.due() == []
    assert store.held_back() == {"di": "no consent for marketing", "ed": "no email address"}
    assert consumers.sent == []
