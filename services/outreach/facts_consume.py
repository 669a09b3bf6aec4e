"""Casework's contact events in, as outreach's contact read model (contact_fact): who contacted us, under
which issue code, about which product and lot. Segments by issue and recall audiences read it."""

from __future__ import annotations

import logging

from services.outreach.recalls_store import RecallStore
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
