"""The early warning's statistics against examples worked by hand (the working is in each comment)."""

from __future__ import annotations

import math

import pytest

from services.insights.domain.stats import (
    benjamini_hochberg,
    glr_cusum,
    glr_term,
    negative_binomial_upper_p,
    poisson_upper_p,
)


def test_the_glr_cusum_takes_the_best_start_of_the_window():
    # n=3, k=3: 5 ln 5 - 4 = 4.04719; k=2: 5 ln 2.5 - 3 = 1.58145; k=1: 5 ln(5/3) - 2 = 0.55413.
    run = glr_cusum([0, 0, 5], [1, 1, 1], threshold=100)
    assert run.statistics == pytest.approx([0.0, 0.0, 4.04719], abs=1e-5)
    assert run.starts[2] == 2
    assert run.alarms == []


def test_a_steady_excess_accumulates_from_the_first_week():
    # n=1: 2 ln 2 - 1 = 0.38629; n=2 from k=1: 4 ln 2 - 2 = 0.77259, better than k=2's 0.38629.
    run = glr_cusum([2, 2], [1, 1], threshold=100)
    assert run.statistics == pytest.approx([0.38629, 0.77259], abs=1e-5)
    assert run.starts == [0, 0]


def test_fewer_than_expected_scores_nothing_one_sided():
    assert glr_cusum([0, 1, 0], [2, 2, 2], threshold=1).statistics == [0.0, 0.0, 0.0]


def test_after_an_alarm_the_run_starts_again():
    # n=3 alarms at 4.047 >= 4; n=4 sees only itself (0); n=5: 4.047 from k=5, 1.58 from k=4.
    run = glr_cusum([0, 0, 5, 0, 5], [1, 1, 1, 1, 1], threshold=4)
    assert run.alarms == [2, 4]
    assert run.statistics[3] == 0.0


def test_the_window_bounds_the_look_back():
    # With a window of 1 only the week itself counts: 2 ln 2 - 1 each time.
    run = glr_cusum([2, 2], [1, 1], threshold=100, window=1)
    assert run.statistics == pytest.approx([0.38629, 0.38629], abs=1e-5)


def test_weighted_counts_are_taken_as_real_numbers():
    # 0.75 ln(0.75 / 0.5) - 0.25 = 0.05410
    assert glr_cusum([0.75], [0.5], threshold=100).statistics == pytest.approx([0.05410], abs=1e-5)


def test_the_exact_poisson_test():
    # P(X >= 3 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125) = 0.0143877
    assert poisson_upper_p(3, 0.5) == pytest.approx(0.0143877, abs=1e-7)
    # P(X >= 1 | 2) = 1 - e^-2 = 0.8646647
    assert poisson_upper_p(1, 2) == pytest.approx(0.8646647, abs=1e-7)
    assert poisson_upper_p(0, 2) == 1.0


def test_benjamini_hochberg_matches_r_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") gives 0.02 0.04 0.04 0.02
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # sorted 0.001, 0.2, 0.9 -> 0.003, 0.3, 0.9
    assert benjamini_hochberg([0.9, 0.001, 0.2]) == pytest.approx([0.9, 0.003, 0.3])
    assert benjamini_hochberg([]) == []


def test_an_excess_over_nothing_expected_is_infinite():
    assert math.isinf(glr_cusum([1], [0], threshold=5).statistics[0])


def test_the_negative_binomial_term_by_hand():
    # X = 10, M = 5 over L = 2 weeks, alpha = 0.5 (size L / alpha = 4):
    # 10 ln 2 - 14 ln(14 / 9) = 6.931472 - 6.185659 = 0.745813
    assert glr_term(10, 5, weeks=2, alpha=0.5) == pytest.approx(0.745813, abs=1e-6)
    # Tends to the Poisson term, 10 ln 2 - 5 = 1.931472, as alpha -> 0.
    assert glr_term(10, 5, weeks=2, alpha=1e-9) == pytest.approx(1.931472, abs=1e-6)


def test_overdispersion_lowers_the_glr_cusum():
    # n=1 alone: 5 ln 5 - 4 = 4.04719 Poisson; NB alpha 1, size 1: 5 ln 5 - 6 ln 3 = 8.04719 - 6.59167 = 1.45552.
    poisson_run = glr_cusum([0, 5], [1, 1], threshold=100, window=1)
    nb_run = glr_cusum([0, 5], [1, 1], threshold=100, window=1, alpha=1.0)
    assert poisson_run.statistics[1] == pytest.approx(4.04719, abs=1e-5)
    assert nb_run.statistics[1] == pytest.approx(1.45552, abs=1e-5)


def test_the_negative_binomial_test_by_hand():
    # Mean 2, alpha 0.5: size r = 2, p = r / (r + mean) = 0.5; P(0) = p^2 = 0.25, P(1) = 2 p^2 (1 - p) =
    # 0.25, P(2) = 3 p^2 (1 - p)^2 = 0.1875. P(X >= 1) = 0.75; P(X >= 3) = 0.3125.
    assert negative_binomial_upper_p(1, 2, 0.5) == pytest.approx(0.75)
    assert negative_binomial_upper_p(3, 2, 0.5) == pytest.approx(0.3125)
    assert negative_binomial_upper_p(0, 2, 0.5) == 1.0
    # No overdispersion: the Poisson test.
    assert negative_binomial_upper_p(3, 0.5, 0.0) == pytest.approx(0.0143877, abs=1e-7)
