"""Buyers: who bought a product, read from fulfillment's `order_placed` events, for a recall's tally.

A buyer is an opaque consumer id, the product's sku and the region the order was sold in; nothing else of
the person is kept. Orders name products, not lots, so every buyer of a recalled product counts as
possibly affected whichever lots the recall names; the regions a recall names do narrow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class InvalidOrder(ValueError):
    """An order_placed event lacking what the buyers read model needs."""


@dataclass(frozen=True)
class Purchase:
    order_id: str
    sku: str
    consumer_id: str
    region: str
    placed_at: datetime


def purchases_of(data: dict) -> list[Purchase]:
    """The event's order as one purchase per product; an order with no consumer on file gives none."""
    try:
        order_id = str(data["order_id"])
        placed_at = datetime.fromisoformat(str(data["placed_at"]).replace("Z", "+00:00"))
        lines = data.get("lines") or []
        skus = dict.fromkeys(str(line["sku"]).strip() for line in lines)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidOrder(f"the order is not understood: {exc}") from exc
    consumer_id = str(data.get("consumer_id") or "")
    if not consumer_id or not order_id:
        return []
    region = str(data.get("region") or "").strip().upper()
    return [Purchase(order_id, sku, consumer_id, region, placed_at) for sku in skus if sku]


@dataclass(frozen=True)
class Tally:
    """A recall's figures: contacts insights holds about it and the consumers who bought the product."""

    recall_id: str
    contacts: int
    buyers: int
