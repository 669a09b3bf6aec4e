"""A pretend carrier for the demo: every tick, each of its parcels moves one status along its journey.

It calls the same use case as a real carrier's webhook (`reply_api.update_shipment`), so what the demo
shows is the path real updates take.
"""

from __future__ import annotations

import asyncio
import logging

from services.fulfillment.replies import DEMO_JOURNEY
from services.fulfillment.reply_api import update_shipment
from services.fulfillment.reply_store import SqlStore

log = logging.getLogger(__name__)
CARRIER = "demo"


def next_status(status: str) -> str | None:
    if status not in DEMO_JOURNEY:
        return None
    position = DEMO_JOURNEY.index(status)
    return DEMO_JOURNEY[position + 1] if position + 1 < len(DEMO_JOURNEY) else None


async def tick(store: SqlStore) -> int:
    moved = 0
    for shipment in await store.moving_shipments(CARRIER):
        status = next_status(shipment.status)
        if status is not None:
            await update_shipment(
                store, carrier=CARRIER, tracking=shipment.tracking_number, status=status, at=None
            )
            moved += 1
    return moved


async def run(store: SqlStore, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await tick(store)
        except Exception:
            log.exception("the demo carrier could not move its parcels; next tick")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
