"""The GLR-CUSUM's expected counts and threshold per series (signals.monitor): a spike that stands out of
a steady history alarms, the same spike in a history that swings as much does not."""

from __future__ import annotations

from datetime import date

import pytest

from services.insights.domain import signals
from services.insights.domain.facts import ContactFact
from services.insights.domain.sales import SalesRow

UNITS = [1000.0] * 24
SPIKE = [5.0, 5.0, 5.0, 14.0]  # the four guard weeks, the last of them well above the history's mean


def test_a_spike_over_a_steady_history_alarms_as_a_poisson_series():
    # Rate (100 + 0.5) / 20,000 a unit: 5.025 a week. Week 24 alone: 14 ln(14 / 5.025) - 8.975 = 5.3698.
    fixed = signals.Tuning(glr_threshold=5.0, glr_window=8, false_alarm_rate=None)
    watched = signals.monitor([5.0] * 20 + SPIKE, UNITS, 0.0, fixed)
    assert watched.threshold == 5.0
    assert watched.alpha == 0.0
    assert watched.expected[0] == pytest.approx(5.025)
    assert watched.run.statistics[-1] == pytest.approx(5.3698, abs=1e-4)
    assert watched.run.alarms == [23]


def test_the_same_spike_over_a_history_that_swings_is_no_alarm():
    # Weeks of 0 and 10: the same mean, variance 25 against 5, so negative binomial.
    watched = signals.monitor([0.0, 10.0] * 10 + SPIKE, UNITS, 0.0, signals.Tuning())
    assert watched.alpha > 1
    assert watched.expected[0] == pytest.approx(5.025, rel=0.05)
    assert watched.run.alarms == []


def test_a_calibrated_threshold_replaces_the_fixed_one_when_a_rate_is_asked():
    tuning = signals.Tuning(glr_window=2, false_alarm_rate=0.001)
    watched = signals.monitor([5.0] * 20 + SPIKE, UNITS, 0.0, tuning)
    # Calibrated at 5.025 a week (between grid points 3.16 and 5.62, the larger of theirs).
    assert 5 < watched.threshold < 6
    assert watched.run.alarms == [23]


def _lot_case(n: int, lot: str) -> ContactFact:
    return ContactFact(
        f"c{lot}{n}", "OAT-500", lot, "IL", "complaint.quality", "phone", date(2026, 11, 2), True
    )


def test_the_lot_test_is_negative_binomial_where_the_product_is_overdispersed():
    # Lot L2 has 10 of the product's 12 complaints on half its units: expected (2 + 0.5) / 1,000 x 1,000
    # = 2.5, Poisson P(X >= 10) = 0.00028; negative binomial with the product's alpha 4 a week (the lot
    # sold one week), size 0.25: P(X >= 10) = I_(2.5/2.75)(10, 0.25) = 0.077, unremarkable.
    sales = [
        SalesRow("OAT-500", lot, "IL", date(2026, 11, 2), date(2026, 11, 8), 1000) for lot in ("L1", "L2")
    ]
    facts = [_lot_case(n, "L1") for n in range(2)] + [_lot_case(n, "L2") for n in range(10)]
    exposure = signals.Exposure(sales)
    poisson = signals.lot_signals(facts, exposure, tuning=signals.Tuning())
    assert [(s.lot_code, s.observed) for s in poisson if s.issue_code == "complaint.quality"] == [
        ("L2", 10.0)
    ]
    swinging = signals.lot_signals(
        facts, exposure, tuning=signals.Tuning(), overdispersion={("OAT-500", "complaint.quality"): 4.0}
    )
    assert [s for s in swinging if s.issue_code == "complaint.quality"] == []
    # The level given no overdispersion stays Poisson and still signals.
    assert [s.lot_code for s in swinging] == ["L2"]
