"""The sender: claims due recipients of running campaigns, decides each, hands the sends to channels.

One round claims at most what the rate limit allows, asks the consent read model about the claimed
consumers, sends through the `Notices` port (channels' SendNotice, one idempotency key per recipient) and
records every outcome in one statement. A sender killed between the claim and the record leaves rows in
'sending'; after their lease another round takes them again and sends them with the same keys, which
channels recognises, so nobody gets a second message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.outreach.campaigns import (
    DEFAULT_RULES,
    Campaign,
    RateLimit,
    Recipient,
    Rules,
    decide,
    idempotency_key,
    needs_unsubscribe,
)
from services.outreach.campaigns_store import Claimed, Outcome

__all__ = ["Campaign", "ChannelsDown", "Notice", "Notices", "Sender", "Standing", "UnsubscribeLinks"]

ROUND = 500


@dataclass(frozen=True)
class Notice:
    idempotency_key: str
    to_address: str
    subject: str
    body: str
    purpose: str  # service, survey, marketing, recall (channels' purposes)
    language: str = ""  # BCP 47 tag of the text
    # The one-click unsubscribe URL (RFC 8058); every marketing and survey notice has one, recall and
    # service notices none.
    list_unsubscribe: str = ""
    html: str = ""


class ChannelsDown(RuntimeError):
    """Channels did not answer in time, or is not there: nothing can be taken as sent."""


class Notices(Protocol):
    async def send(self, notices: list[Notice]) -> list[bool]:
        """Send each notice once per idempotency key; True for each channels took (queued for the relay)."""


class UnsubscribeLinks(Protocol):
    def link(self, consumer_id: str, purpose: str) -> str:
        """The consumer's one-click unsubscribe URL for `purpose`, or "" when none can be made."""


class Standing(Protocol):
    async def of(self, consumer_ids: list[str], now: datetime) -> dict[str, tuple[frozenset[str], int]]:
        """For each consumer: the purposes they consented to, and marketing messages sent in the cap window."""


class Claims(Protocol):
    async def claim(self, campaign_id: str, now: datetime, limit: int) -> list[Claimed]: ...
    async def record(self, campaign_id: str, outcomes: list[Outcome]) -> None: ...


class Sender:
    def __init__(
        self,
        claims: Claims,
        standing: Standing,
        notices: Notices,
        *,
        unsubscribe: UnsubscribeLinks,
        clock: Callable[[], datetime],
        limit: RateLimit,
        rules: Rules = DEFAULT_RULES,
    ):
        self.claims, self.standing, self.notices = claims, standing, notices
        self.unsubscribe = unsubscribe
        self.clock, self.limit, self.rules = clock, limit, rules

    async def round(self, campaign: Campaign) -> tuple[int, float]:
        """One round of `campaign`: how many recipients it settled, and how long the rate limit asks to wait
        before the next; (0, 0.0) when nothing is due now."""
        granted, wait = self.limit.take(ROUND)
        if not granted:
            return 0, wait
        now = self.clock()
        claimed = await self.claims.claim(campaign.id, now, granted)
        self.limit.give_back(granted - len(claimed))
        if not claimed:
            return 0, 0.0
        standing = await self.standing.of([c.consumer_id for c in claimed], now)
        outcomes, to_send = [], []
        for c in claimed:
            consented, sent_in_window = standing.get(c.consumer_id, (frozenset(), 0))
            recipient = Recipient(c.consumer_id, c.email, c.time_zone, consented, sent_in_window)
            decision = decide(campaign.kind, recipient, now, self.rules)
            if decision.outcome != "send":
                outcomes.append(Outcome(c.consumer_id, decision.outcome, decision.until, decision.reason))
            elif (notice := self._notice(campaign, c)) is None:
                outcomes.append(Outcome(c.consumer_id, "suppressed", reason="no one-click unsubscribe link"))
            else:
                to_send.append((c, notice))
        if to_send:
            accepted = await self.notices.send([notice for _, notice in to_send])
            outcomes += [
                Outcome(c.consumer_id, "sent" if ok else "failed", reason="" if ok else "refused by channels")
                for (c, _), ok in zip(to_send, accepted, strict=True)
            ]
        await self.claims.record(campaign.id, outcomes)
        return len(claimed), wait

    def _notice(self, campaign: Campaign, c: Claimed) -> Notice | None:
        """The recipient's notice; None for marketing whose unsubscribe link cannot be made, which is
        never sent without one."""
        link = self.unsubscribe.link(c.consumer_id, campaign.kind) if needs_unsubscribe(campaign.kind) else ""
        if needs_unsubscribe(campaign.kind) and not link:
            return None
        return Notice(
            idempotency_key(campaign.id, c.consumer_id),
            c.email,
            campaign.subject,
            campaign.body,
            campaign.kind,
            list_unsubscribe=link,
        )
