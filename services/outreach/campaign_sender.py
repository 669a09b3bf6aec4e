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

from services.outreach.campaigns import DEFAULT_RULES, RateLimit, Recipient, Rules, decide, idempotency_key
from services.outreach.campaigns_store import Claimed, Outcome

ROUND = 500


@dataclass(frozen=True)
class Notice:
    idempotency_key: str
    to_address: str
    subject: str
    body: str
    purpose: str  # marketing notices carry the one-click unsubscribe headers; recall notices do not


class Notices(Protocol):
    async def send(self, notices: list[Notice]) -> list[bool]:
        """Send each notice once per idempotency key; True for each the relay accepted."""


class Standing(Protocol):
    async def of(self, consumer_ids: list[str], now: datetime) -> dict[str, tuple[frozenset[str], int]]:
        """For each consumer: the purposes they consented to, and marketing messages sent in the cap window."""


class Claims(Protocol):
    async def claim(self, campaign_id: str, now: datetime, limit: int) -> list[Claimed]: ...
    async def record(self, campaign_id: str, outcomes: list[Outcome]) -> None: ...


@dataclass(frozen=True)
class Campaign:
    id: str
    kind: str
    subject: str
    body: str


class Sender:
    def __init__(
        self,
        claims: Claims,
        standing: Standing,
        notices: Notices,
        *,
        clock: Callable[[], datetime],
        limit: RateLimit,
        rules: Rules = DEFAULT_RULES,
    ):
        self.claims, self.standing, self.notices = claims, standing, notices
        self.clock, self.limit, self.rules = clock, limit, rules

    async def round(self, campaign: Campaign) -> tuple[int, float]:
        """One round of `campaign`; how many recipients it settled, and how long to wait before the next."""
        granted, wait = self.limit.take(ROUND)
        if not granted:
            return 0, wait
        now = self.clock()
        claimed = await self.claims.claim(campaign.id, now, granted)
        if not claimed:
            return 0, wait
        standing = await self.standing.of([c.consumer_id for c in claimed], now)
        outcomes, to_send = [], []
        for c in claimed:
            consented, sent_in_window = standing.get(c.consumer_id, (frozenset(), 0))
            recipient = Recipient(c.consumer_id, c.email, c.time_zone, consented, sent_in_window)
            decision = decide(campaign.kind, recipient, now, self.rules)
            if decision.outcome == "send":
                to_send.append(c)
            else:
                outcomes.append(Outcome(c.consumer_id, decision.outcome, decision.until, decision.reason))
        if to_send:
            accepted = await self.notices.send([self._notice(campaign, c) for c in to_send])
            outcomes += [
                Outcome(
                    c.consumer_id, "sent" if ok else "failed", reason="" if ok else "refused by the relay"
                )
                for c, ok in zip(to_send, accepted, strict=True)
            ]
        await self.claims.record(campaign.id, outcomes)
        return len(claimed), wait

    def _notice(self, campaign: Campaign, c: Claimed) -> Notice:
        return Notice(
            idempotency_key(campaign.id, c.consumer_id),
            c.email,
            campaign.subject,
            campaign.body,
            campaign.kind,
        )


async def run(sender: Sender, campaign: Campaign, is_running, wait_for) -> None:
    """Rounds until the campaign is paused, finished, or has nothing due; `wait_for(seconds)` is the
    rate limit's pause, returning early when the process is told to stop."""
    while await is_running(campaign.id):
        settled, wait = await sender.round(campaign)
        if not settled and not wait:
            return
        if wait and await wait_for(wait):
            return
