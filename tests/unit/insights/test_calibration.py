"""Calibrated GLR-CUSUM thresholds and the detectable floor (domain/calibration.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from services.insights.domain import calibration
from services.insights.domain.stats import glr_cusum


def test_the_upper_quantile_leaves_at_most_the_rate_above():
    # Ten values, 20 %: at most two at or above h; 5 would leave three (5, 6, 7), so h is just above 5.
    values = np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    h = calibration._upper_quantile(values, 0.2)
    assert 5 < h <= 6
    assert int((values >= h).sum()) == 2


@pytest.mark.parametrize("mean", [0.3, 3.0, 30.0])
def test_the_threshold_holds_the_false_alarm_rate_on_fresh_series(mean):
    # A seed other than the calibration's, and the service's run with its restarts and the two-contact rule.
    threshold = calibration.glr_threshold(mean, window=2, min_count=2.0)
    x = np.random.default_rng(99).poisson(mean, 60_000).astype(float)
    run = glr_cusum(list(x), [mean] * len(x), threshold=threshold, window=2)
    alarms = [n for n in run.alarms if x[run.starts[n] : n + 1].sum() >= 2]
    assert len(alarms) / len(x) <= 0.0013  # 1 in 1,000, with the simulation's noise


def test_a_doubling_is_seen_in_two_weeks_only_from_about_13_contacts_a_week():
    floor = calibration.detectable_weekly_count(2.0)
    assert floor == pytest.approx(13.45)

    def power(mean):  # the least cut holding 1 in 1,000 over two weeks, and its power against 2 x
        cut = min(c for c in range(200) if poisson.sf(c - 1, 2 * mean) <= 0.001)
        return poisson.sf(cut - 1, 4 * mean)

    assert power(13.45) >= 0.9 > power(13.44)
