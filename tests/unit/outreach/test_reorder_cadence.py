"""Purchase cadence and the reminder's day, with no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.outreach import reorder

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def every(days: int, count: int) -> list[datetime]:
    return [START + timedelta(days=days * i) for i in range(count)]


def test_a_thirty_day_cadence_reminds_three_days_before_the_expected_reorder():
    reminder = reorder.next_reminder("c-1", "SKU-1", every(30, 3))
    assert reminder.cadence == timedelta(days=30)
    assert reminder.expected_at == START + timedelta(days=90)
    assert reminder.remind_at == START + timedelta(days=87)


def test_the_key_is_one_per_cycle_so_replayed_orders_give_the_same_timer():
    orders = every(30, 3)
    first = reorder.next_reminder("c-1", "SKU-1", orders)
    replayed = reorder.next_reminder("c-1", "SKU-1", list(reversed(orders)) + orders[:1])
    assert replayed.key == first.key
    later = reorder.next_reminder("c-1", "SKU-1", [*orders, START + timedelta(days=89)])
    assert later.key != first.key
    assert not reorder.still_due(first, [*orders, START + timedelta(days=89)])
    assert reorder.still_due(first, orders)


def test_one_order_or_a_split_order_gives_no_cadence():
    assert reorder.next_reminder("c-1", "SKU-1", every(30, 1)) is None
    assert reorder.cadence([START, START + timedelta(hours=2)]) is None


def test_an_irregular_history_uses_the_median_gap_and_a_short_cadence_a_shorter_lead():
    times = [START, START + timedelta(days=28), START + timedelta(days=58), START + timedelta(days=120)]
    assert reorder.cadence(times) == timedelta(days=30)
    weekly = reorder.next_reminder("c-1", "SKU-2", every(4, 3))
    assert weekly.expected_at - weekly.remind_at == timedelta(days=2)


def test_reminders_are_marketing():
    assert reorder.PURPOSE == "marketing"


def test_orders_are_read_from_a_purchase_history_oldest_first():
    from crs.fulfillment.v1 import fulfillment_pb2 as pb

    from services.outreach.reorder_orders import orders_of

    history = pb.PurchaseHistory(consumer_id="c-1")
    for n in (2, 1, 0):  # newest first, as fulfillment answers
        order = history.orders.add(id=f"o-{n}", consumer_id="c-1")
        order.placed_at.FromDatetime(START + timedelta(days=30 * n))
        order.lines.add(quantity=1).product.sku = "SKU-1"
    history.orders.add(id="undated", consumer_id="c-1")
    seen = orders_of(history)
    assert [o.order_id for o in seen] == ["o-0", "o-1", "o-2"]
    assert seen[2].placed_at == START + timedelta(days=60)
    reminder = reorder.next_reminder("c-1", "SKU-1", [o.placed_at for o in seen])
    assert reminder.remind_at == START + timedelta(days=87)
