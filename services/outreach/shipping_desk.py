"""Shipping notices as use cases: fulfillment's `shipment_changed` in, one notice per (parcel, state) out.

`take` claims the event's notice and sends the parcel's pending notices at once; `sweep` is the timer that
tries again what could not go (no address yet, the relay refused) until it is no longer news. Every send
goes through the `Notices` port with the notice's key as its idempotency key, so a sender killed between
the send and the record, whose lease then runs out, sends the same key again and channels sends nothing
twice. The consumer's address and language come from the `Reachable` port; a withdrawn service consent on
email from `ServiceConsent`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from services.outreach import shipping_notices
from services.outreach.campaign_sender import Notices
from services.outreach.reach import Reachable
from services.outreach.shipping_notices import NotAShipment, ShipmentNews
from services.outreach.shipping_store import Claimed, Ending
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)

ROUND = 200


class ServiceConsent(Protocol):
    async def withdrawn(self, consumer_ids: list[str]) -> set[str]:
        """Those of `consumer_ids` who withdrew service messages by email."""


class Claims(Protocol):
    async def take(self, news: ShipmentNews, now: datetime) -> bool: ...
    async def claim(self, now: datetime, limit: int, *, fulfillment_id: str = "") -> list[Claimed]: ...
    async def record(self, endings: list[Ending]) -> None: ...


class ShippingDesk:
    def __init__(
        self,
        claims: Claims,
        reachable: Reachable,
        consent: ServiceConsent,
        notices: Notices,
        *,
        clock: Callable[[], datetime],
    ):
        self.claims, self.reachable, self.consent, self.notices = claims, reachable, consent, notices
        self.clock = clock

    async def take(self, event: Event) -> list[Ending]:
        """One shipment event: its notice claimed (once, however often the event comes), and the parcel's
        pending notices sent. A payload that is not a shipment is logged and dropped."""
        try:
            news = ShipmentNews.from_event(event.data, event.time)
        except NotAShipment as exc:
            log.warning("dropping shipment_changed event %s: %s", event.id, exc)
            return []
        now = self.clock()
        await self.claims.take(news, now)
        return await self._settle(await self.claims.claim(now, ROUND, fulfillment_id=news.fulfillment_id))

    async def sweep(self) -> list[Ending]:
        """Try again every pending notice whose time has come."""
        return await self._settle(await self.claims.claim(self.clock(), ROUND))

    async def _settle(self, claimed: list[Claimed]) -> list[Ending]:
        if not claimed:
            return []
        now, consumers = self.clock(), list(dict.fromkeys(c.news.consumer_id for c in claimed))
        reaches = await self.reachable.of(consumers)
        withdrawn = await self.consent.withdrawn(consumers)
        endings, to_send = [], []
        for c in claimed:
            news, reach = c.news, reaches.get(c.news.consumer_id)
            decision = shipping_notices.decide(
                news,
                reach,
                service_withdrawn=news.consumer_id in withdrawn,
                overtaken=c.overtaken,
                now=now,
            )
            if decision.outcome == "send":
                to_send.append((news, shipping_notices.notice(news, reach)))
            else:
                endings.append(
                    Ending(
                        news.fulfillment_id, news.state, decision.outcome, decision.reason, decision.retry_at
                    )
                )
        if to_send:
            accepted = await self.notices.send([n for _, n in to_send])
            retry_at = now + shipping_notices.RETRY_AFTER
            endings += [
                Ending(news.fulfillment_id, news.state, "sent")
                if ok
                else Ending(news.fulfillment_id, news.state, "wait", "not accepted by the relay", retry_at)
                for (news, _), ok in zip(to_send, accepted, strict=True)
            ]
        await self.claims.record(endings)
        return endings


def subscriptions(desk: ShippingDesk) -> list[bus.Subscription]:
    async def take(event: Event) -> None:
        await desk.take(event)

    return [bus.Subscription(shipping_notices.SOURCE, shipping_notices.EVENT_TYPE, take)]
