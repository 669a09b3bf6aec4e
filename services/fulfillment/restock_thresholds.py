"""Cover thresholds that override the restock policy's default for one product, one region, or one
product in one region: a region with a long supply lead time, or a product that sells in bursts, is
prompted earlier than the rest. Plain Python: no SQL, no protobuf.

The most specific threshold wins: the product in the region, then the region's own (every product), then
the product's own (every region), then the policy's default. A region is a location's country and region.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment.replies import InvalidRequest

MAX_COVER_DAYS = 365.0


@dataclass(frozen=True)
class CoverThreshold:
    sku: str  # '' for every product
    country: str  # '' with region '' for every region
    region: str
    cover_days: float

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.sku, self.country, self.region)


@dataclass(frozen=True)
class Change:
    """One edit of the thresholds, kept for audit: who, when, and the value before and after (None where
    there was none: the default applied, or the override was removed)."""

    scope: tuple[str, str, str]  # ('', '', '') is the policy's default
    changed_by: str
    changed_at: datetime
    before: dict | None
    after: dict | None


def normalised(sku: str, country: str, region: str) -> tuple[str, str, str]:
    return (sku.strip(), country.strip().upper(), region.strip())


def validate_scope(sku: str, country: str, region: str) -> tuple[str, str, str]:
    """The scope as stored; an empty one is the policy's default, which is set elsewhere."""
    sku, country, region = normalised(sku, country, region)
    if bool(country) != bool(region):
        raise InvalidRequest("country and region: both, for one region, or neither, for every region")
    if country and not (len(country) == 2 and country.isalpha()):
        raise InvalidRequest("country: a two-letter country code")
    if not (sku or region):
        raise InvalidRequest(
            "sku or region: a threshold overrides the default for a product, a region, or both"
        )
    if len(sku) > 64 or len(region) > 100:
        raise InvalidRequest("sku: at most 64 characters; region: at most 100")
    return sku, country, region


def validate(threshold: CoverThreshold) -> CoverThreshold:
    validate_scope(*threshold.scope)
    days = threshold.cover_days
    if not (math.isfinite(days) and 0 < days <= MAX_COVER_DAYS):
        raise InvalidRequest(f"cover_days: a number of days above 0 and at most {MAX_COVER_DAYS:g}")
    return threshold


class Thresholds:
    """The overrides in force, looked up per product and region."""

    def __init__(self, overrides: Iterable[CoverThreshold] = ()):
        self.by_scope = {t.scope: t.cover_days for t in overrides}

    def cover_days(self, sku: str, country: str, region: str, default: float) -> float:
        for scope in ((sku, country, region), ("", country, region), (sku, "", "")):
            if scope in self.by_scope:
                return self.by_scope[scope]
        return default

    def __bool__(self) -> bool:
        return bool(self.by_scope)


MAX_REORDER_POINT = 1_000_000


def validate_reorder_point(sku: str, location_id: str, point: int) -> tuple[str, str, int]:
    """A location's reorder point for a product: restock there when available falls below it; 0 is none."""
    sku, location_id = sku.strip(), location_id.strip()
    if not sku or not location_id:
        raise InvalidRequest("sku and location_id: both required")
    if not 0 <= point <= MAX_REORDER_POINT:
        raise InvalidRequest(f"reorder_point: from 0 (none) to {MAX_REORDER_POINT}")
    return sku, location_id, point
