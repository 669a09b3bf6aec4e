"""The timers of the outreach process: a sweep run every so often until the process stops.

Each sweep is a desk's `due` or `sweep` (surveys, reorder reminders, shipping notices' retries); what it
sends is claimed in the store first, so a sweep that overlaps a restart sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_every(
    what: str, sweep: Callable[[], Awaitable[object]], every: float, stop: asyncio.Event
) -> None:
    """`sweep()` every `every` seconds until `stop`; a failed sweep is logged, not fatal."""
    while not stop.is_set():
        try:
            await sweep()
        except Exception:
            log.exception("the %s sweep failed; next one in %ss", what, every)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
