"""The expected weekly count (domain/counts.py) against worked values and a reference fit.

The reference: statsmodels' NegativeBinomial (NB2, loglike_method="nb2", exposure=units, Newton to 1e-12)
on the twelve weeks below gives an intercept of -5.92707317, alpha 0.63094183 and a log-likelihood of
-26.336900281814.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.insights.domain import counts

OVERDISPERSED = [0, 3, 1, 9, 0, 2, 7, 1, 0, 12, 2, 4]
UNITS = [1000, 1200, 900, 1500, 800, 1000, 1400, 1100, 900, 1600, 1000, 1300]


def test_an_overdispersed_history_is_fitted_as_the_reference_negative_binomial():
    model = counts.fit(OVERDISPERSED, UNITS, range(12))
    assert model.alpha == pytest.approx(0.63094183, rel=1e-5)
    # The intercept with half a contact added: b0 + ln((41 + 0.5) / sum(units e^b0)).
    reference = -5.92707317
    fitted = sum(u * math.exp(reference) for u in UNITS)
    assert model.coefficients[0] == pytest.approx(reference + math.log(41.5 / fitted), abs=1e-5)


def test_the_log_likelihood_matches_the_reference():
    mu = np.exp(-5.92707317) * np.array(UNITS, dtype=float)
    assert counts.negative_binomial_loglik(np.array(OVERDISPERSED, float), mu, 0.63094183) == pytest.approx(
        -26.336900281814, abs=1e-6
    )


def test_a_steady_history_is_its_rate_with_half_a_contact_added():
    # Less spread than a Poisson (x equals its mean each week): (16 + 0.5) / 8,000 per unit, Poisson.
    model = counts.fit([2] * 8, [1000] * 8, range(8))
    assert model.alpha == 0.0
    assert model.expected([2000], [9]) == pytest.approx([2000 * 16.5 / 8000])


def test_a_clean_history_expects_half_a_contact_over_its_units():
    model = counts.fit([0, 0, 0], [500, 500, 1000], range(3))
    assert model.expected([1000], [3]) == pytest.approx([1000 * 0.5 / 2000])


def test_a_year_of_history_fits_the_season():
    # Counts exactly on u e^(b0 + b1 sin + b2 cos) make the Poisson score zero at those b: the MLE.
    weeks = range(104)
    units = [1000 + 10 * (t % 7) for t in weeks]
    b = (-4.0, 0.3, -0.2)
    x = [u * math.exp(b[0] + b[1] * math.sin(2 * math.pi * t / 52) + b[2] * math.cos(2 * math.pi * t / 52))
         for u, t in zip(units, weeks, strict=True)]  # fmt: skip
    model = counts.fit(x, units, weeks)
    assert model.alpha == 0.0
    assert model.coefficients[1:] == pytest.approx(b[1:], abs=1e-4)
    assert model.coefficients[0] == pytest.approx(b[0] + math.log((sum(x) + 0.5) / sum(x)), abs=1e-4)


def test_the_dispersion_test_by_hand():
    # mu = 2 each week, x = 0, 4, 0, 4: z = ((x - 2)^2 - x) / 2 = 2, 0, 2, 0; alpha = sum(z mu) / sum(mu^2)
    # = 8 / 16 = 0.5; residuals 1, -1, 1, -1, variance 4 / 3, se = sqrt(4 / 3 / 16) = 0.288675, t = 1.73205.
    alpha, t = counts.dispersion_test([0, 4, 0, 4], [2, 2, 2, 2])
    assert alpha == pytest.approx(0.5)
    assert t == pytest.approx(1.73205, abs=1e-5)


def test_no_units_no_model():
    assert counts.fit([1, 2], [0, 0], range(2)) is None
