"""Cover thresholds per product and region: the most specific applies, and a region with a tighter
threshold is prompted while another with the same figures is not."""

from __future__ import annotations

import pytest

from services.fulfillment import restock
from services.fulfillment.replies import InvalidRequest
from services.fulfillment.restock import Figures, Policy
from services.fulfillment.restock_thresholds import CoverThreshold, Thresholds, validate, validate_scope


def figures(region: str, sku: str = "FD-OAT-500") -> Figures:
    # 140 units in 14 days is 10 a day; 100 available is 10 days of cover.
    return Figures(sku, "US", region, 140, 100, 0, 0)


def test_a_region_with_a_tighter_threshold_is_prompted_and_another_with_the_same_figures_is_not():
    policy = Policy(cover_days=7, overrides=(CoverThreshold("", "US", "West", 12),))
    assert restock.reasons(figures("West"), policy) == (restock.LOW_COVER,)
    assert restock.reasons(figures("Northeast"), policy) == ()
    decided = restock.decide([figures("West"), figures("Northeast")], [], policy, restock.utc_now())
    [raised] = decided.raised
    assert (raised.region, raised.cover_threshold_days) == ("West", 12)


def test_the_product_in_the_region_applies_before_the_region_before_the_product_before_the_default():
    thresholds = Thresholds(
        [
            CoverThreshold("OAT", "US", "West", 20),
            CoverThreshold("", "US", "West", 12),
            CoverThreshold("OAT", "", "", 9),
        ]
    )
    assert thresholds.cover_days("OAT", "US", "West", default=7) == 20
    assert thresholds.cover_days("RICE", "US", "West", default=7) == 12
    assert thresholds.cover_days("OAT", "US", "South", default=7) == 9
    assert thresholds.cover_days("RICE", "US", "South", default=7) == 7


@pytest.mark.parametrize(
    ("scope", "complaint"),
    [
        (("", "", ""), "sku or region"),
        (("OAT", "US", ""), "country and region"),
        (("", "", "West"), "country and region"),
        (("", "USA", "West"), "two-letter"),
    ],
)
def test_a_scope_that_names_no_product_or_half_a_region_is_refused(scope, complaint):
    with pytest.raises(InvalidRequest, match=complaint):
        validate_scope(*scope)


@pytest.mark.parametrize("days", [0, -1, 366, float("nan"), float("inf")])
def test_cover_days_outside_a_year_are_refused(days):
    with pytest.raises(InvalidRequest, match="cover_days"):
        validate(CoverThreshold("OAT", "", "", days))
