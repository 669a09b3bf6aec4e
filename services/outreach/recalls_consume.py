"""`recall_opened` from insights in: a recall-notice campaign to the affected consumers, started at once.

A payload that is not a recall is logged and dropped (redelivering it would not make it one); a
redelivered event finds its campaign by the recall's key and adds nobody twice.
"""

from __future__ import annotations

import logging
from typing import Protocol

from services.outreach.campaigns_store import CampaignStore
from services.outreach.recalls import EVENT_TYPE, SOURCE, InvalidRecall, Recall
from services.outreach.recalls_store import RecallStore
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)


class Addresses(Protocol):
    async def of(self, consumer_ids: list[str]) -> dict[str, tuple[str, str]]:
        """For each consumer with an email address: (address, time zone), from the consumer read model."""


class RecallOpened:
    def __init__(self, recalls: RecallStore, campaigns: CampaignStore, addresses: Addresses):
        self.recalls, self.campaigns, self.addresses = recalls, campaigns, addresses

    async def take(self, event: Event) -> str | None:
        try:
            recall = Recall.from_event(event.data)
        except InvalidRecall as exc:
            log.warning("dropping recall_opened event %s: %s", event.id, exc)
            return None
        campaign_id = await self.campaigns.create(
            kind="recall",
            name=recall.title or f"Recall {recall.recall_id}",
            subject=recall.subject(),
            body=recall.consumer_message,
            created_by=recall.opened_by or "insights",
            key=recall.campaign_key(),
        )
        audience = await self.recalls.affected(recall)
        found = await self.addresses.of(audience)
        await self.campaigns.add_recipients(campaign_id, [(c, *found[c]) for c in audience if c in found])
        if await self.campaigns.state(campaign_id) == "draft":
            await self.campaigns.move(campaign_id, "approve")
            await self.campaigns.move(campaign_id, "start")
        log.info("recall %s: notice campaign %s to %d consumers", recall.recall_id, campaign_id, len(found))
        return campaign_id


def subscriptions(handler: RecallOpened) -> list[bus.Subscription]:
    async def take(event: Event) -> None:
        await handler.take(event)

    return [bus.Subscription(SOURCE, EVENT_TYPE, take)]
