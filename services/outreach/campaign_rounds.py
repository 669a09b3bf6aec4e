"""The sender loop of outreach's process: rounds for every running campaign, each at its own rate limit.

Each tick asks which campaigns run now (a pause or a resume in the console takes effect at the next tick),
gives each one round of its `Sender` (campaign_sender.py), finishes a campaign whose every recipient is
settled (sent, suppressed or failed),
and waits the shortest time any campaign's rate limit asks for, or `idle` when none has work due. Both
clocks are injected: `clock` (the wall time that decides quiet hours and due rows) and `monotonic` (the
rate limits'). Stopping the process ends the wait at once; a round in flight finishes and records first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from services.outreach.campaign_sender import Claims, Notices, Sender, Standing, UnsubscribeLinks
from services.outreach.campaigns import DEFAULT_RULES, Campaign, NotAllowedNow, Progress, RateLimit, Rules

log = logging.getLogger(__name__)


class RunningCampaigns(Claims, Protocol):
    async def running(self) -> list[tuple[Campaign, int]]: ...
    async def progress(self, campaign_id: str) -> Progress: ...
    async def move(self, campaign_id: str, move: str) -> str: ...


class CampaignRounds:
    def __init__(
        self,
        campaigns: RunningCampaigns,
        standing: Standing,
        notices: Notices,
        unsubscribe: UnsubscribeLinks,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        idle: float = 2.0,
        rules: Rules = DEFAULT_RULES,
    ):
        self.campaigns, self.standing, self.notices, self.unsubscribe = (
            campaigns,
            standing,
            notices,
            unsubscribe,
        )
        self.clock, self.monotonic, self.idle, self.rules = clock, monotonic, idle, rules
        self.senders: dict[tuple[str, int], Sender] = {}

    async def tick(self) -> float:
        """One round of every running campaign; how long to wait before the next tick."""
        running = await self.campaigns.running()
        self.senders = {key: s for key, s in self.senders.items() if key in {(c.id, r) for c, r in running}}
        waits = [await self._round(campaign, rate) for campaign, rate in running]
        return min(waits, default=self.idle)

    async def _round(self, campaign: Campaign, rate: int) -> float:
        sender = self.senders.get((campaign.id, rate))
        if sender is None:  # a new campaign, or a changed rate: a fresh bucket
            sender = self.senders[(campaign.id, rate)] = Sender(
                self.campaigns,
                self.standing,
                self.notices,
                unsubscribe=self.unsubscribe,
                clock=self.clock,
                limit=RateLimit(rate, self.monotonic),
                rules=self.rules,
            )
        settled, wait = await sender.round(campaign)
        if settled or wait:
            return wait
        progress = await self.campaigns.progress(campaign.id)
        # A campaign of nobody yet stays running: a recall's audience may still be arriving.
        if progress.total and progress.done:
            with contextlib.suppress(NotAllowedNow):  # paused or finished meanwhile
                await self.campaigns.move(campaign.id, "finish")
                log.info("campaign %s finished: every recipient settled", campaign.id)
        return self.idle  # nothing due: what is left is deferred, or leased to another sender

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                wait = await self.tick()
            except Exception:
                log.exception(
                    "a campaign round failed; its claimed recipients are taken again after the lease"
                )
                wait = self.idle
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
