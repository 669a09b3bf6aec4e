"""Casework's case events in: each logged once by its event id, then folded into the contact read model.

A recompute follows within CRS_INSIGHTS_RECOMPUTE_SECONDS of the contact that changed the figures, not one
per event, so a burst of contacts costs one recompute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.insights.service import CASE_EVENTS, Insights, Received
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)


def subscriptions(insights: Insights) -> list[bus.Subscription]:
    async def take(event: Event) -> None:
        await insights.take(Received(event.id, event.source, event.type, event.time, event.data))

    return [bus.Subscription("contacts", kind, take) for kind in CASE_EVENTS]


async def recompute_when_dirty(insights: Insights, stop: asyncio.Event, every: float) -> None:
    while not stop.is_set():
        if insights.dirty:
            try:
                raised = await insights.recompute()
                if raised:
                    log.info("raised %d alerts", len(raised))
            except Exception:
                insights.dirty = True
                log.exception("the recompute failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
