"""Restock prompts: when a region is selling through a product faster than its stock will last, or
consumers there keep failing to find it, the supply planners are told, with the figures behind it.

Per product and region (a location's country and region), over a trailing window:
- units sold: order lines sold at or shipped from the region's locations, and reservations made there
  for replacements and samples, less those released;
- velocity: units sold / window days; days of cover: the region's available stock / velocity;
- misses: where-to-buy lookups that found no stocked store near a consumer of the region, and contacts
  coded "can't find it"; their usual level is the average per window over the windows before.

A prompt holds while days of cover are below the policy's threshold (or the product's or region's own), or misses are at least `min_misses`
and above `miss_factor` times their usual level. It is raised once while it holds (its figures are
refreshed at each evaluation) and cleared when it no longer does. Plain Python: no SQL, no protobuf.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Protocol

from services.fulfillment.replies import InvalidRequest
from services.fulfillment.restock_thresholds import CoverThreshold, Thresholds

log = logging.getLogger(__name__)

LOW_COVER = "low_cover"
MISSES_CLIMBING = "misses_climbing"
# A store further than this from the consumer's postcode is not "near": the lookup counts as a miss.
NEAR_KM = 25.0
# Contacts coded with this issue (or one under it) and a product are "can't find it" misses.
CANT_FIND_ISSUE = "question.where_to_buy"

Key = tuple[str, str, str]  # sku, country, region


@dataclass(frozen=True)
class Policy:
    cover_days: float = 7.0
    window_days: int = 14
    baseline_windows: int = 4
    miss_factor: float = 2.0
    min_misses: int = 3
    # Cover thresholds for a product, a region or both, in place of `cover_days` (restock_thresholds.py).
    overrides: tuple[CoverThreshold, ...] = ()

    @cached_property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.overrides)

    def cover_days_for(self, key: Key) -> float:
        return self.thresholds.cover_days(*key, default=self.cover_days)


def validate_policy(policy: Policy) -> Policy:
    if not (policy.cover_days > 0 and math.isfinite(policy.cover_days)):
        raise InvalidRequest("cover_days: a number of days above 0")
    if not 1 <= policy.window_days <= 365:
        raise InvalidRequest("window_days: from 1 to 365")
    if not 1 <= policy.baseline_windows <= 52:
        raise InvalidRequest("baseline_windows: from 1 to 52")
    if not (policy.miss_factor >= 1 and math.isfinite(policy.miss_factor)):
        raise InvalidRequest("miss_factor: 1 or more")
    if policy.min_misses < 1:
        raise InvalidRequest("min_misses: 1 or more")
    return policy


def days_of_cover(units_sold: int, available: int, window_days: int) -> float | None:
    """How long the available stock lasts at the window's pace; None while nothing sells (for ever)."""
    if units_sold <= 0:
        return None
    return max(available, 0) / (units_sold / window_days)


@dataclass(frozen=True)
class Figures:
    """What was measured for one product in one region over the window."""

    sku: str
    country: str
    region: str
    units_sold: int
    available: int
    misses: int
    baseline_misses: int  # in the `baseline_windows` windows before this one, all together

    @property
    def key(self) -> Key:
        return (self.sku, self.country, self.region)


@dataclass(frozen=True)
class Prompt:
    id: str
    sku: str
    country: str
    region: str
    reasons: tuple[str, ...]
    units_sold: int
    available: int
    misses: int
    usual_misses: float
    window_days: int
    cover_threshold_days: float
    raised_at: datetime
    evaluated_at: datetime
    cleared_at: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.sku, self.country, self.region)

    @property
    def velocity_per_day(self) -> float:
        return self.units_sold / self.window_days

    @property
    def days_of_cover(self) -> float | None:
        return days_of_cover(self.units_sold, self.available, self.window_days)


def usual_misses(figures: Figures, policy: Policy) -> float:
    return figures.baseline_misses / policy.baseline_windows


def reasons(figures: Figures, policy: Policy) -> tuple[str, ...]:
    """Why this product needs restocking in this region; empty when it does not."""
    found = []
    cover = days_of_cover(figures.units_sold, figures.available, policy.window_days)
    if cover is not None and cover < policy.cover_days_for(figures.key):
        found.append(LOW_COVER)
    if figures.misses >= policy.min_misses and figures.misses > policy.miss_factor * usual_misses(
        figures, policy
    ):
        found.append(MISSES_CLIMBING)
    return tuple(found)


@dataclass(frozen=True)
class Decisions:
    raised: list[Prompt]
    refreshed: list[Prompt]  # still holding: the same prompt with today's figures, no new event
    cleared: list[Prompt]


def decide(
    figures: list[Figures], open_prompts: list[Prompt], policy: Policy, now: datetime, new_id=uuid.uuid4
) -> Decisions:
    """Compare what holds now with the prompts already open."""
    open_by_key = {p.key: p for p in open_prompts}
    raised, refreshed, cleared = [], [], []
    for fig in figures:
        why = reasons(fig, policy)
        already = open_by_key.pop(fig.key, None)
        measured = _measured(fig, why, policy, now)
        if why and already is None:
            raised.append(Prompt(str(new_id()), fig.sku, fig.country, fig.region, raised_at=now, **measured))
        elif why:
            refreshed.append(replace(already, **measured))
        elif already is not None:
            # The figures that cleared it go with it, so the planner sees why it no longer holds.
            cleared.append(replace(already, **measured, cleared_at=now))
    # A prompt whose product and region were not measured at all has nothing left behind it.
    cleared += [replace(p, evaluated_at=now, cleared_at=now) for p in open_by_key.values()]
    return Decisions(raised, refreshed, cleared)


def _measured(fig: Figures, why: tuple[str, ...], policy: Policy, now: datetime) -> dict:
    return dict(
        reasons=why,
        units_sold=fig.units_sold,
        available=fig.available,
        misses=fig.misses,
        usual_misses=usual_misses(fig, policy),
        window_days=policy.window_days,
        cover_threshold_days=policy.cover_days_for(fig.key),
        evaluated_at=now,
    )


class Store(Protocol):
    async def policy(self) -> Policy: ...

    async def figures(self, now: datetime, policy: Policy) -> list[Figures]:
        """Every product and region that sold or missed in the window, or has an open prompt."""

    async def open_prompts(self) -> list[Prompt]: ...

    async def apply(self, decisions: Decisions) -> Decisions:
        """Write the decisions and their events in one transaction; returns what was written (a prompt
        another evaluator raised first is left out)."""


async def evaluate(store: Store, now: datetime) -> Decisions:
    policy = await store.policy()
    figures = await store.figures(now, policy)
    return await store.apply(decide(figures, await store.open_prompts(), policy, now))


def utc_now() -> datetime:
    return datetime.now(UTC)


async def run(
    store: Store, interval: float, stop: asyncio.Event, clock: Callable[[], datetime] = utc_now
) -> None:
    """Evaluate every `interval` seconds until `stop` is set; a failed round is logged and retried."""
    while not stop.is_set():
        try:
            done = await evaluate(store, clock())
            for prompt in done.raised:
                log.info("restock prompt raised: %s in %s/%s %s", *prompt.key, prompt.reasons)
            for prompt in done.cleared:
                log.info("restock prompt cleared: %s in %s/%s", *prompt.key)
        except Exception:
            log.exception("restock evaluation failed; next round")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass


def is_cant_find(issue_code: str, cant_find_issue: str = CANT_FIND_ISSUE) -> bool:
    return issue_code == cant_find_issue or issue_code.startswith(cant_find_issue + ".")


@dataclass(frozen=True)
class CantFind:
    """A contact coded "can't find it" about a product, from a consumer we can place."""

    case_id: str
    consumer_id: str
    sku: str
    at: datetime


def cant_find(
    *, case_id: str, consumer_id: str, sku: str, issue_code: str, at: datetime, cant_find_issue: str
) -> CantFind | None:
    """The miss a case stands for, or None: it needs the code, a product and a consumer to place."""
    if not (case_id and consumer_id and sku and is_cant_find(issue_code, cant_find_issue)):
        return None
    return CantFind(case_id, consumer_id, sku, at)


def is_miss(nearest_store_km: float | None) -> bool:
    """A lookup is a miss when no store with stock is within NEAR_KM of the consumer."""
    return nearest_store_km is None or nearest_store_km > NEAR_KM
