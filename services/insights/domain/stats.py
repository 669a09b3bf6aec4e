"""The statistics of the early warning: the one-sided Poisson GLR-CUSUM, the exact Poisson test and
Benjamini-Hochberg.

The GLR-CUSUM is the one of R's surveillance package (glrpois, one-sided, for an increase): at time n,

    G_n = max over k <= n of  X log(X / M) - (X - M)   when X > M, else 0,

with X and M the observed and expected counts summed over k..n; the maximised log-likelihood ratio of "the
rate has been multiplied by some kappa > 1 since k" against "it has not". Where the counts are overdispersed
(negative binomial, variance mu + alpha mu^2), the term is the negative-binomial one with the window's
expected spread evenly over its L weeks (exact when the expected is the same each week; the MLE of the
mean is then X / L, as for the Poisson):

    X log(X / M) - (X + L / alpha) log((1 + alpha X / L) / (1 + alpha M / L)),

which tends to the Poisson term as alpha -> 0. Counts may be weighted
(fractional), so the formulas take real numbers; the exact test then uses the regularised incomplete gamma
function, which is P(X >= x) for a whole x and its continuous extension between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import betainc, gammainc


def glr_term(observed: float, expected: float, *, weeks: int = 1, alpha: float = 0.0) -> float:
    """The one-sided log-likelihood ratio of `observed` against `expected` over `weeks`, at the MLE of
    kappa: Poisson when alpha is 0, else negative binomial with that overdispersion."""
    if observed <= expected or observed <= 0:
        return 0.0
    if expected <= 0:
        return math.inf
    poisson = observed * math.log(observed / expected)
    if alpha <= 0:
        return poisson - (observed - expected)
    size = weeks / alpha
    return poisson - (observed + size) * math.log((size + observed) / (size + expected))


@dataclass(frozen=True)
class CusumRun:
    statistics: list[float]  # G_n for every n
    starts: list[int]  # the k that maximised G_n
    alarms: list[int]  # the n at which G_n reached the threshold (the run restarts after each)


def glr_cusum(
    observed: Sequence[float],
    expected: Sequence[float],
    *,
    threshold: float,
    window: int | None = None,
    alpha: float = 0.0,
) -> CusumRun:
    """Run the GLR-CUSUM over a series; after an alarm it starts afresh, as surveillance's ret="value" does.

    `window` bounds how far back k may go (surveillance's M); None: back to the last restart. `alpha` > 0
    takes the counts as negative binomial with that overdispersion.
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
            value = glr_term(x, m, weeks=n - k + 1, alpha=alpha)
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


def negative_binomial_upper_p(observed: float, expected: float, alpha: float) -> float:
    """P(X >= observed) for X negative binomial of mean `expected` and variance expected + alpha
    expected^2; the Poisson test when alpha is 0. For size r = 1 / alpha and p = r / (r + expected),
    P(X >= x) = I_{1-p}(x, r), the regularised incomplete beta function (continuous between whole x)."""
    if alpha <= 0:
        return poisson_upper_p(observed, expected)
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    size = 1.0 / alpha
    return float(betainc(observed, size, expected / (size + expected)))


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
