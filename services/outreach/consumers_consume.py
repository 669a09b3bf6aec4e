"""Contacts' consumer events in, as outreach's consumer read model. A payload without a consumer is logged
and dropped: redelivering it would not make it one."""

from __future__ import annotations

import logging

from services.outreach.consumers import EVENT_TYPES, ConsumerRow, NotAConsumer
from services.outreach.consumers_store import ConsumerStore
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)


def subscriptions(store: ConsumerStore) -> list[bus.Subscription]:
    async def take(event: Event) -> None:
        try:
            row = ConsumerRow.from_event(event.data, event.time)
        except NotAConsumer as exc:
            log.warning("dropping %s event %s: %s", event.type, event.id, exc)
            return
        await store.take(row)

    return [bus.Subscription("contacts", kind, take) for kind in EVENT_TYPES]
