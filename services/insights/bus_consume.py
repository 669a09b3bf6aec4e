"""Casework's case events and outreach's survey answers in: each logged once by its event id, then folded
into the contact and report read models; fulfillment's order_placed in, as the buyers read model (one row
per order and product, so once); contacts' regulatory warnings in, as mail owed to legal.

A recompute follows once the bus has been quiet for QUIET seconds, and at the latest
CRS_INSIGHTS_RECOMPUTE_SECONDS after the contact that changed the figures: a burst of contacts (a history
replayed, a day of letters keyed) costs one recompute, on the whole burst, not one per event on a part.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from services.insights.service import CASE_EVENTS, SURVEY_EVENTS, Insights, Received
from services.insights.themes import ANONYMISED, ThemeFinder
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)


def subscriptions(insights: Insights, themes: ThemeFinder) -> list[bus.Subscription]:
    """A case event feeds the read model and the verbatims; an anonymisation reaches the verbatims alone."""

    async def take(event: Event) -> None:
        received = Received(event.id, event.source, event.type, event.time, event.data)
        await insights.take(received)
        await themes.take(received)

    async def forget(event: Event) -> None:
        await themes.take(Received(event.id, event.source, event.type, event.time, event.data))

    async def take_survey(event: Event) -> None:
        await insights.take(Received(event.id, event.source, event.type, event.time, event.data))

    async def take_order(event: Event) -> None:
        await insights.take_order(event.id, event.data)

    return [
        *(bus.Subscription("contacts", kind, take) for kind in CASE_EVENTS),
        bus.Subscription("contacts", ANONYMISED, forget),
        *(bus.Subscription("outreach", kind, take_survey) for kind in SURVEY_EVENTS),
        bus.Subscription("fulfillment", "order_placed", take_order),
    ]


def warnings(staff_store) -> bus.Subscription:
    """Contacts' regulatory_deadline_near, owed to legal's addresses as staff mail (staff_mail.py)."""

    async def owe(event: Event) -> None:
        await staff_store.owe_warning(event.id, event.data)

    return bus.Subscription("contacts", "regulatory_deadline_near", owe)


QUIET = 2.0


async def recompute_when_dirty(insights: Insights, stop: asyncio.Event, at_most: float) -> None:
    tick = min(QUIET, at_most) / 4
    while not stop.is_set():
        now = time.monotonic()
        due = now - insights.last_taken >= min(QUIET, at_most) or now - insights.dirty_since >= at_most
        if insights.dirty and due:
            try:
                raised = await insights.recompute()
                if raised:
                    log.info("raised %d alerts", len(raised))
            except Exception:
                insights.dirty = True
                log.exception("the recompute failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick)
