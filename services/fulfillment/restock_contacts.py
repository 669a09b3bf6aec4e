"""Contacts coded "can't find it", consumed from casework's case events (`contact_created`,
`contact_updated` on `contacts.events`): each such case about a product is a miss in the region of the
consumer's address. A case counts once however often it is delivered or changed (the miss is keyed on
the case id)."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Protocol

from crs.contacts.v1 import casework_pb2

from services.fulfillment import restock, where_to_buy
from services.fulfillment.restock_store import SqlStore as RestockStore
from services.runtime.bus import Subscription
from services.runtime.events import Event

log = logging.getLogger(__name__)
MESSAGES = {"contact_created": casework_pb2.ContactCreated, "contact_updated": casework_pb2.ContactUpdated}


class Consumers(Protocol):
    async def consumer_place(self, consumer_id: str) -> tuple[str, str] | None: ...


class Places(Protocol):
    async def place_postcode(self, country: str, postcode: str) -> tuple[float, float] | None: ...


class CantFindContacts:
    def __init__(self, consumers: Consumers, places: Places, misses: RestockStore, cant_find_issue: str):
        self.consumers = consumers
        self.places = places
        self.misses = misses
        self.cant_find_issue = cant_find_issue

    def subscriptions(self) -> list[Subscription]:
        return [Subscription("contacts", event_type, self.on_case) for event_type in MESSAGES]

    async def on_case(self, event: Event) -> None:
        case = event.parse(MESSAGES[event.type]).case
        found = restock.cant_find(
            case_id=case.id,
            consumer_id=case.consumer_id,
            sku=case.product.sku,
            issue_code=case.issue_code,
            at=case.created_at.ToDatetime(UTC) if case.HasField("created_at") else event.time,
            cant_find_issue=self.cant_find_issue,
        )
        if found is None:
            return
        # Contacts not answering raises: the event comes back for another try.
        place = await self.consumers.consumer_place(found.consumer_id)
        if place is None:
            log.info("case %s: its consumer has no address to place; not counted as a miss", found.case_id)
            return
        country, postcode = place
        point = await self.places.place_postcode(country, where_to_buy.normalise_postcode(country, postcode))
        if point is None:
            log.info("case %s: postcode %s (%s) is not in the postcode data; not counted", found.case_id,
                     postcode, country)  # fmt: skip
            return
        region = await self.misses.record_miss(
            sku=found.sku,
            country=country,
            latitude=point[0],
            longitude=point[1],
            at=found.at,
            source="contact",
            source_id=found.case_id,
        )
        if region is not None:
            log.info(
                "case %s: a can't-find-it miss for %s in %s/%s", found.case_id, found.sku, country, region
            )
