"""The statistics of the early warning: the one-sided Poisson GLR-CUSUM, the exact Poisson test and
Benjamini-Hochberg.

The GLR-CUSUM is the one of R's surveillance package (glrpois, one-sided, for an increase): at time n,

    G_n = max over k <= n of  X log(X / M) - (X - M)   when X > M, else 0,

with X and M the observed and expected counts summed over k..n; the maximised log-likelihood ratio of "the
rate has been multiplied by some kappa > 1 since k" against "it has not". Counts may be weighted
(fractional), so the formulas take real numbers; the exact test then uses the regularised incomplete gamma
function, which is P(X >= x) for a whole x and its continuous extension between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import gammainc


def glr_term(observed: float, expected: float) -> float:
    """The one-sided Poisson log-likelihood ratio of `observed` against `expected`, at the MLE of kappa."""
    if observed <= expected or observed <= 0:
        return 0.0
    if expected <= 0:
        return math.inf
    return observed * math.log(observed / expected) - (observed - expected)


@dataclass(frozen=True)
class CusumRun:
    statistics: list[float]  # G_n for every n
    starts: list[int]  # the k that maximised G_n
    alarms: list[int]  # the n at which G_n reached the threshold (the run restarts after each)


def glr_cusum(
    observed: Sequence[float], expected: Sequence[float], *, threshold: float, window: int | None = None
) -> CusumRun:
    """Run the GLR-CUSUM over a series; after an alarm it starts afresh, as surveillance's ret="value" does.

    `window` bounds how far back k may go (surveillance's M); None: back to the last restart.
    """
    if len(observed) != len(expected):
        raise ValueError("observed and expected must be as long as each other")
    statistics, starts, alarms = [], [], []
    restart = 0
    for n in range(len(observed)):
        first = restart if window is None else max(restart, n - window + 1)
        best, best_k, x, m = 0.0, n, 0.0, 0.0
        for k in range(n, first - 1, -1):
            x += observed[k]
            m += expected[k]
            value = glr_term(x, m)
            if value > best:
                best, best_k = value, k
        statistics.append(best)
        starts.append(best_k)
        if best >= threshold:
            alarms.append(n)
            restart = n + 1
    return CusumRun(statistics, starts, alarms)


def poisson_upper_p(observed: float, expected: float) -> float:
    """The exact one-sided p-value P(X >= observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return float(gammainc(observed, expected))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """The BH-adjusted p-values (R's p.adjust(method="BH")), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(running, 1.0)
    return adjusted
