"""Time, for a pop: each source's own deadline, the ring's budget, and what is left of it.

Plain Python on an injected clock, so the shedding in compose.py is tested without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

# Why a pop is degraded (its `degraded` field, and the metric's `reason`); a full pop has None.
LATE = "late"  # the budget was spent before screenpop dequeued the ringing: bare, nothing asked
NO_TIME_TO_MATCH = "no_time_to_match"  # too little left to wait for contacts: bare
NO_TIME_TO_ENRICH = "no_time_to_enrich"  # too little left after the match: the match only
CUT_AT_RING_DEADLINE = "cut_at_ring_deadline"  # a source asked got only the rest of the budget, and missed it
DEGRADED_REASONS = (LATE, NO_TIME_TO_MATCH, NO_TIME_TO_ENRICH, CUT_AT_RING_DEADLINE)


@dataclass(frozen=True)
class Deadlines:
    """Seconds each source may take before the pop goes out without it."""

    match: float = 0.3
    source: float = 0.25


@dataclass(frozen=True)
class Budget:
    """How long after the INVITE a pop may go out, and the least time worth giving a source.

    One second: the sources' own deadlines (300 ms for contacts, 250 ms for billing and fulfillment in
    parallel, then 250 ms for recalls) add up to 800 ms, so on a healthy system no pop is ever shed, and
    200 ms more covers the bus. Past a second the agent's phone has rung for a while (a first ring lasts
    1-2 s) and the agent may be answering: a pop later than that arrives after the hand reaches the phone,
    and waiting for it only makes the next calls' pops late too.

    50 ms is the least a source gets: a service far enough behind that its answer would take longer than
    that is overloaded, and asking it anyway adds to the load that made it late.
    """

    ring: float = 1.0
    least: float = 0.05


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True)
class Outcome:
    """What one source gave: its value, or why not."""

    value: Any = None
    failed: str | None = None  # "timeout", "unavailable", "skipped", or an error name
    cut: bool = False  # timed out on the ring's budget, before the source's own deadline

    @property
    def ok(self) -> bool:
        return self.failed is None


SKIPPED = Outcome(failed="skipped")


async def within(deadline: float, work: Awaitable[T], *, cut: bool = False) -> Outcome:
    """Await `work` for at most `deadline` seconds; never raise, report instead.

    `cut`: the deadline is what is left of the ring's budget, shorter than the source's own.
    """
    try:
        return Outcome(value=await asyncio.wait_for(work, timeout=deadline))
    except TimeoutError:
        return Outcome(failed="timeout", cut=cut)
    except Exception as exc:  # a source that is down must give a gap, not a missing pop
        return Outcome(failed=_failure_name(exc))


def _failure_name(exc: Exception) -> str:
    """The gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED...) when there is one, else the error's type."""
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            return code().name
        except Exception:
            pass
    return type(exc).__name__


@dataclass
class Ring:
    """What is left of one pop's budget, read on an injected clock (epoch seconds, like the INVITE's)."""

    budget: Budget
    rang_at: float
    clock: Callable[[], float]
    degraded: str | None = None  # the first reason work was shed

    def left(self) -> float:
        return self.budget.ring - (self.clock() - self.rang_at)

    def shed(self, reason: str) -> None:
        if self.degraded is None:
            self.degraded = reason

    async def ask(self, own: float, reason: str, ask: Callable[[float], Awaitable[T]]) -> Outcome:
        """Ask a source for at most its own deadline or what is left, whichever is shorter; with too
        little left, do not ask at all and shed the work for `reason`."""
        left = self.left()
        if left < self.budget.least:
            self.shed(LATE if left <= 0 else reason)
            return SKIPPED
        deadline = min(own, left)
        outcome = await within(deadline, ask(deadline), cut=deadline < own)
        if outcome.cut:
            self.shed(CUT_AT_RING_DEADLINE)
        return outcome
