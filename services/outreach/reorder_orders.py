"""Orders for the cadence, from fulfillment's GetPurchaseHistory (fulfillment publishes no order events yet).

A sweep asks for each consumer with marketing consent (`last_orders` up to HISTORY) and hands every order
to ReorderDesk.on_order; that is idempotent on (order, product), so reading the same history again plans
nothing new. When fulfillment publishes orders, the bus consumer calls on_order with the same arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from crs.fulfillment.v1 import fulfillment_pb2 as pb

HISTORY = 50
DEADLINE_SECONDS = 5.0


@dataclass(frozen=True)
class OrderSeen:
    order_id: str
    consumer_id: str
    placed_at: datetime
    skus: list[str]


def orders_of(history) -> list[OrderSeen]:
    """The orders of a crs.fulfillment.v1.PurchaseHistory, oldest first; an order with no date is skipped."""
    seen = []
    for order in history.orders:
        if not order.HasField("placed_at"):
            continue
        placed = order.placed_at.ToDatetime(tzinfo=UTC)
        skus = [line.product.sku for line in order.lines if line.product.sku]
        seen.append(OrderSeen(order.id, order.consumer_id or history.consumer_id, placed, skus))
    return sorted(seen, key=lambda o: o.placed_at)


async def take_history(desk, stub, consumer_id: str, *, metadata=()) -> int:
    """Read one consumer's history from fulfillment and plan their reminders; the number of orders read."""
    history = await stub.GetPurchaseHistory(
        pb.GetPurchaseHistoryRequest(consumer_id=consumer_id, last_orders=HISTORY),
        timeout=DEADLINE_SECONDS,
        metadata=metadata,
    )
    orders = orders_of(history)
    for order in orders:
        await desk.on_order(order.order_id, order.consumer_id, order.placed_at, order.skus)
    return len(orders)
