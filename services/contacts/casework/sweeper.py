"""Scheduled sweeps: every `interval` seconds, the SLA breaches and the follow-ups due at the clock's now."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

log = logging.getLogger(__name__)


class Sweeper:
    """Runs `sweep(now=clock())` on its own schedule until stopped; a failed sweep is logged and retried."""

    def __init__(
        self,
        sweep: Callable[..., Awaitable[int]],
        *,
        interval: float,
        clock: Callable[[], datetime],
        what: str = "SLA breaches",
    ):
        self.sweep = sweep
        self.what = what
        self.interval = interval
        self.clock = clock
        self.rounds = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                count = await self.sweep(now=self.clock())
                if count:
                    log.info("%s: %d", self.what, count)
            except Exception as exc:
                log.warning("sweep for %s failed (%s); trying again in %.0fs", self.what, exc, self.interval)
            self.rounds += 1
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
