"""GLR-CUSUM thresholds that hold a false-alarm rate, by the series' expected weekly count, and the
smallest expected count at which a doubling can be seen within a week at all.

One threshold for every series (the served 5) gives a series expecting a tenth of a contact a week a
different false-alarm rate from one expecting fifty, and spends the rate where no doubling is visible. Here
the threshold is, for each expected weekly count on a log grid (and each overdispersion), the value the
statistic reaches on at most `FALSE_ALARM_RATE` of weeks of a simulated in-control series of that mean
(Poisson or negative binomial), with a fixed seed of its own so that it is never tuned on the clusters a
benchmark then scores. The statistic is taken without restarts, which counts each excursion's every week
above the threshold and so errs on fewer alarms. Between grid points the larger neighbour is used.
"""

from __future__ import annotations

import bisect
import math
from functools import cache

import numpy as np
from scipy.stats import poisson

FALSE_ALARM_RATE = 0.001  # alarms per in-control series-week
CALIBRATION_SEED = 20261203
SIMULATED_WEEKS = 200_000
GRID = tuple(0.01 * 10 ** (i / 4) for i in range(21))  # expected contacts a week, 0.01 to 1,000
ALPHAS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


def _statistics(x: np.ndarray, mean: float, alpha: float, window: int, min_count: float) -> np.ndarray:
    """The windowed GLR-CUSUM statistic of every week of `x`, without restarts, for a constant mean, over
    the starts whose weeks hold at least `min_count` contacts (an alarm needs as many)."""
    sums = np.concatenate(([0.0], np.cumsum(x)))
    best = np.zeros(len(x))
    for weeks in range(1, window + 1):
        observed = np.zeros(len(x))
        observed[weeks - 1 :] = sums[weeks:] - sums[:-weeks]
        expected = mean * weeks
        up = (observed > expected) & (observed >= min_count)
        ratio = observed[up]
        value = ratio * np.log(ratio / expected)
        if alpha > 0:
            size = weeks / alpha
            value -= (ratio + size) * np.log((size + ratio) / (size + expected))
        else:
            value -= ratio - expected
        term = np.zeros(len(x))
        term[up] = value
        np.maximum(best, term, out=best)
    return best


def _upper_quantile(values: np.ndarray, rate: float) -> float:
    """The smallest h with at most `rate` of `values` at or above it."""
    ordered = np.sort(values)
    allowed = math.floor(rate * len(values))
    h = ordered[len(values) - allowed - 1] if allowed < len(values) else 0.0
    above = len(values) - np.searchsorted(ordered, h, side="left")
    if above > allowed:  # h is an atom with too much mass: the next value up
        h = np.nextafter(h, math.inf)
    return float(h)


@cache
def _calibrated(grid_index: int, alpha_index: int, window: int, rate: float, min_count: float) -> float:
    rng = np.random.default_rng((CALIBRATION_SEED, grid_index, alpha_index, window))
    mean, alpha = GRID[grid_index], ALPHAS[alpha_index]
    if alpha > 0:
        size = 1.0 / alpha
        x = rng.negative_binomial(size, size / (size + mean), SIMULATED_WEEKS).astype(float)
    else:
        x = rng.poisson(mean, SIMULATED_WEEKS).astype(float)
    return _upper_quantile(_statistics(x, mean, alpha, window, min_count), rate)


def glr_threshold(
    expected_weekly: float,
    *,
    window: int,
    alpha: float = 0.0,
    rate: float = FALSE_ALARM_RATE,
    min_count: float = 0.0,
) -> float:
    """The threshold that holds `rate` false alarms per series-week for a series expecting
    `expected_weekly` contacts a week (clamped to the grid), with overdispersion `alpha`, when an alarm
    also needs `min_count` contacts over its weeks."""
    a = min(range(len(ALPHAS)), key=lambda i: abs(ALPHAS[i] - alpha))
    at = bisect.bisect_left(GRID, expected_weekly)
    neighbours = {min(max(at - 1, 0), len(GRID) - 1), min(at, len(GRID) - 1)}
    return max(_calibrated(i, a, window, rate, min_count) for i in neighbours)


def detectable_weekly_count(
    multiplier: float = 2.0, *, weeks: int = 2, power: float = 0.9, rate: float = FALSE_ALARM_RATE
) -> float:
    """The smallest expected weekly count (to 0.01) at which the best test there is of `weeks` weeks'
    Poisson count, holding `rate` false alarms, sees the rate multiplied by `multiplier` with `power`.

    The count over the weeks is sufficient for a rate, so by Neyman-Pearson no detector that looks at those
    weeks alone does better at that false-alarm rate: the cut c is the least with P(X >= c | weeks mu)
    <= rate, and the power is P(X >= c | multiplier weeks mu)."""
    mean = 0.01
    while mean < 1000:
        cut = poisson.isf(rate, weeks * mean) + 1  # the least c with P(X >= c) <= rate
        if poisson.sf(cut - 1, multiplier * weeks * mean) >= power:
            return round(mean, 2)
        mean += 0.01
    return math.inf
