"""Other services' events in, as outreach's read models. Casework's contact events in, as outreach's contact read model (contact_fact): who contacted us, under
which issue code, about which product and lot. Segments by issue and recall audiences read it."""

from __future__ import annotations

import logging
from datetime import datetime

from services.outreach.recalls import Purchase
from services.outreach.recalls_store import RecallStore
from services.outreach.reorder_desk import ReorderDesk
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)

CONTACT_EVENTS = ("contact_created", "contact_updated")


def subscriptions(store: RecallStore) -> list[bus.Subscription]:
    async def take(event: Event) -> None:
        case = event.data.get("case")
        if not isinstance(case, dict) or not case.get("id"):
            log.warning("dropping %s event %s: it carries no case", event.type, event.id)
            return
        await store.take_contact(case, event.time)

    return [bus.Subscription("contacts", kind, take) for kind in CONTACT_EVENTS]


def order_subscriptions(store: RecallStore, reorder: ReorderDesk | None = None) -> list[bus.Subscription]:
    """Fulfillment's `order_placed` in, as outreach's purchase read model (purchase_fact), and as the orders
    of `reorder`'s purchase cadence when given (one queue for both, so neither misses an order)."""

    async def take(event: Event) -> None:
        data = event.data
        try:
            placed_at = datetime.fromisoformat(str(data["placed_at"]).replace("Z", "+00:00"))
            purchases = [
                Purchase(
                    str(data["consumer_id"]),
                    str(line["sku"]),
                    str(line.get("lot_code") or ""),
                    str(data.get("region") or ""),
                )
                for line in data.get("lines") or ()
            ]
            order_id = str(data["order_id"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("dropping order_placed event %s: %s", event.id, exc)
            return
        if purchases and purchases[0].consumer_id:
            await store.take_purchases(order_id, placed_at, purchases)
            if reorder is not None:
                skus = [p.sku for p in purchases]
                await reorder.on_order(order_id, purchases[0].consumer_id, placed_at, skus)

    return [bus.Subscription("fulfillment", "order_placed", take)]
