"""The expected weekly count of a series: complaints per unit sold, with units as the exposure, a yearly
season when the history covers a year, and overdispersion where the data show it.

    log E[X_t] = log units_t + b0 (+ b1 sin(2 pi t / 52) + b2 cos(2 pi t / 52)),

fitted as a Poisson log-linear model by maximum likelihood. Overdispersion is tested with Cameron and
Trivedi's regression (((x - mu)^2 - x) / mu on mu, no intercept: alpha_hat = sum((x - mu)^2 - x) / sum(mu^2),
one-sided t-test); where it is significant the model is refitted as a negative binomial (NB2: variance
mu + alpha mu^2) by maximum likelihood, coefficients and log alpha together. Without seasonal terms the
Poisson fit is the series' rate, the sum of its contacts over the sum of its units. Half a contact is
added to the fitted history's total (the intercept is raised so) so that a clean history expects a
little rather than nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

PRIOR_CONTACTS = 0.5
SEASON_WEEKS = 52
OVERDISPERSION_T = 1.645  # one-sided 5 %
MIN_WEEKS_FOR_DISPERSION = 8


@dataclass(frozen=True)
class CountModel:
    coefficients: tuple[float, ...]  # b0, then b1 and b2 when seasonal
    alpha: float  # 0: Poisson

    def expected(self, units: Sequence[float], week_numbers: Sequence[int]) -> list[float]:
        design = _design(week_numbers, len(self.coefficients) > 1)
        eta = design @ np.array(self.coefficients)
        return [float(u * e) for u, e in zip(units, np.exp(eta), strict=True)]


def _design(week_numbers: Sequence[int], seasonal: bool) -> np.ndarray:
    t = np.asarray(week_numbers, dtype=float)
    columns = [np.ones(len(t))]
    if seasonal:
        columns += [np.sin(2 * np.pi * t / SEASON_WEEKS), np.cos(2 * np.pi * t / SEASON_WEEKS)]
    return np.column_stack(columns)


def _poisson_fit(x: np.ndarray, units: np.ndarray, design: np.ndarray) -> np.ndarray:
    start = np.zeros(design.shape[1])
    start[0] = math.log(max(x.sum(), PRIOR_CONTACTS) / units.sum())
    if design.shape[1] == 1:
        return start

    def loss(b):
        mu = units * np.exp(design @ b)
        return float(mu.sum() - x @ (design @ b)), design.T @ (mu - x)

    return minimize(loss, start, jac=True, method="BFGS").x


def negative_binomial_loglik(x: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    size = 1.0 / alpha
    return float(
        np.sum(
            gammaln(x + size) - gammaln(size) - gammaln(x + 1)
            + size * np.log(size / (size + mu)) + x * np.log(mu / (size + mu))
        )
    )  # fmt: skip


def _negative_binomial_fit(
    x, units, design, start: np.ndarray, alpha: float, *, fixed: bool = False
) -> tuple[np.ndarray, float]:
    """The NB2 maximum-likelihood coefficients and alpha; `fixed`: alpha as given, the coefficients alone."""
    offset = np.log(units)

    def loss(theta):
        b, log_alpha = (theta, math.log(alpha)) if fixed else (theta[:-1], theta[-1])
        return -negative_binomial_loglik(x, np.exp(offset + design @ b), math.exp(log_alpha))

    found = minimize(loss, start if fixed else np.append(start, math.log(alpha)), method="BFGS",
                     options={"gtol": 1e-9})  # fmt: skip
    return (found.x, alpha) if fixed else (found.x[:-1], float(math.exp(found.x[-1])))


def dispersion_test(x: Sequence[float], mu: Sequence[float]) -> tuple[float, float]:
    """Cameron-Trivedi: alpha_hat and its t statistic from the regression of ((x - mu)^2 - x) / mu on mu."""
    xs, ms = np.asarray(x, dtype=float), np.asarray(mu, dtype=float)
    keep = ms > 0
    xs, ms = xs[keep], ms[keep]
    if len(xs) < 2:
        return 0.0, 0.0
    z = ((xs - ms) ** 2 - xs) / ms
    alpha = float(z @ ms / (ms @ ms))
    residual = z - alpha * ms
    spread = float(residual @ residual) / (len(xs) - 1)
    if spread <= 0:
        return alpha, math.inf if alpha > 0 else 0.0
    return alpha, alpha / math.sqrt(spread / float(ms @ ms))


def fit(
    counts: Sequence[float], units: Sequence[float], week_numbers: Sequence[int], *, shared_alpha: float = 0.0
) -> CountModel | None:
    """The model of a history (weeks with units > 0); None when it has no units at all. `shared_alpha`:
    the overdispersion of a wider series this one is part of (a region of a product whose weeks swing
    together), taken when this history is too thin to show its own."""
    kept = [i for i, u in enumerate(units) if u > 0]
    if not kept:
        return None
    x = np.array([counts[i] for i in kept], dtype=float)
    u = np.array([units[i] for i in kept], dtype=float)
    weeks = [week_numbers[i] for i in kept]
    design = _design(weeks, max(weeks) - min(weeks) + 1 >= SEASON_WEEKS and x.sum() > 0)
    b = _poisson_fit(x, u, design)
    alpha = 0.0
    if len(x) >= MIN_WEEKS_FOR_DISPERSION and x.sum() > 0:
        alpha_hat, t = dispersion_test(x, u * np.exp(design @ b))
        if alpha_hat > 0 and t >= OVERDISPERSION_T:
            b, alpha = _negative_binomial_fit(x, u, design, b, alpha_hat)
    if alpha == 0.0 and shared_alpha > 0 and x.sum() > 0:
        b, alpha = _negative_binomial_fit(x, u, design, b, shared_alpha, fixed=True)
    mu = u * np.exp(design @ b)
    b = b.copy()
    b[0] += math.log((x.sum() + PRIOR_CONTACTS) / mu.sum())
    return CountModel(tuple(float(v) for v in b), alpha)
