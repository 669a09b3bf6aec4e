"""The console's share of the retention policies: failed and locked log-ins in its access log.

The policy is contacts' (`crs retention set failed_logins DAYS`, read through ConsumerRights as the
console itself); the rows are the console's. Each sweep that removes any writes what it removed to the
access log it swept, so the trail says when records left it and under which policy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

log = logging.getLogger(__name__)
ACTIONS = ("login.failed", "login.locked")


async def sweep(
    *,
    policy_days: Callable[[], Awaitable[int]],
    remove_before: Callable[[datetime], Awaitable[int]],
    record: Callable[[str], Awaitable[None]],
    now: datetime,
) -> int:
    """Remove failed log-ins older than the policy at `now`; returns how many went."""
    days = await policy_days()
    if not days:
        return 0
    removed = await remove_before(now - timedelta(days=days))
    if removed:
        await record(f"removed {removed} failed log-in records older than {days} days")
        log.info("retention: failed log-ins removed", extra={"fields": {"count": removed, "days": days}})
    return removed


class Schedule:
    """`sweep` every `interval` seconds until stopped; a failed sweep is logged and tried again."""

    def __init__(self, run: Callable[[], Awaitable[int]], *, interval: float):
        self.run_once = run
        self.interval = interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("failed log-in retention failed (%s); trying again in %.0fs", exc, self.interval)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
