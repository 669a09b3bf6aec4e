"""Reorder reminders: a consumer's purchase cadence for a product, and when to remind them before they run out.

The cadence is the median gap between consecutive orders of the same product (at least two orders; gaps under
a day are one order split in two and are ignored). The expected reorder date is the last order plus the
cadence; the reminder is due `lead` before it, never before the last order itself. Its timer's unique key
names the consumer, the product and the order the cycle starts from, so each cycle reminds at most once,
however often the orders are replayed, and a new order starts a new cycle (and the old timer finds on firing
that it is stale).

Purpose: a reorder reminder invites a purchase, so it needs the consumer's *marketing* consent (see
docs/outreach.md); a consumer with service-messages consent only gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

PURPOSE = "marketing"
LEAD = timedelta(days=3)
SHORTEST_GAP = timedelta(days=1)
LONGEST_CADENCE = timedelta(days=400)


@dataclass(frozen=True)
class Reminder:
    consumer_id: str
    sku: str
    cadence: timedelta
    last_order_at: datetime
    expected_at: datetime
    remind_at: datetime
    key: str


def cadence(order_times: list[datetime]) -> timedelta | None:
    """The typical gap between orders, or None when there is no pattern to go on."""
    times = sorted(order_times)
    gaps = [b - a for a, b in pairwise(times) if b - a >= SHORTEST_GAP]
    if not gaps:
        return None
    typical = median(gaps)
    return typical if typical <= LONGEST_CADENCE else None


def next_reminder(
    consumer_id: str, sku: str, order_times: list[datetime], *, lead: timedelta = LEAD
) -> Reminder | None:
    every = cadence(order_times)
    if every is None:
        return None
    last = max(order_times)
    expected = last + every
    remind_at = max(expected - min(lead, every / 2), last)
    key = f"reorder:{consumer_id}:{sku}:{last.isoformat()}"
    return Reminder(consumer_id, sku, every, last, expected, remind_at, key)


def still_due(reminder: Reminder, order_times: list[datetime]) -> bool:
    """When the timer fires: false if the consumer ordered again since, so the reminder is stale."""
    return max(order_times, default=reminder.last_order_at) <= reminder.last_order_at
