"""Disproportionality (PRR and EBGM) against examples worked by hand (the working is in each comment)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.insights.domain.disproportionality import (
    START,
    Prior,
    Table,
    eb_quantile,
    ebgm,
    fit_prior,
    log_likelihood,
    signals,
)
from services.insights.domain.facts import ContactFact

TODAY = date(2026, 12, 2)
TASTE, PLASTIC, MOULD = (
    "complaint.quality.taste",
    "complaint.quality.foreign_object.plastic",
    "complaint.quality.mould",
)


def test_prr_and_its_yates_chi_square_on_a_worked_table():
    # a=10 b=90 c=100 d=9800: PRR = (10/100) / (100/9900) = 9.9.
    # chi2 = N (|ad - bc| - N/2)^2 / ((a+b)(c+d)(a+c)(b+d)) = 1e4 (89000 - 5000)^2 / (100 * 9900 * 110 * 9890)
    #      = 7.056e13 / 1.077021e12 = 65.514
    table = Table(10, 90, 100, 9800)
    assert table.prr == pytest.approx(9.9)
    assert table.chi_square == pytest.approx(65.514, abs=1e-3)
    # At the others' share the product would have had 100 x 100 / 9900 = 1.0101 of them.
    assert table.expected_at_others_share == pytest.approx(1.0101, abs=1e-4)


def test_a_table_in_proportion_has_a_prr_of_one_and_no_chi_square():
    # 5/50 against 50/500: the same share; |ad - bc| = 0 and the correction floors it at 0.
    table = Table(5, 45, 50, 450)
    assert table.prr == pytest.approx(1.0)
    assert table.chi_square == 0.0


def test_ebgm_and_eb05_for_a_fixed_prior_worked_by_hand():
    # Both components Gamma(1, 1): the posterior for N=3, E=1 is Gamma(4, rate 2).
    # EBGM = exp(psi(4) - ln 2) = exp(1.256118 - 0.693147) = 1.755881.
    # EB05 = chi2(0.05; 8 df) / (2 x 2) = 2.732637 / 4 = 0.683159 (the chi-square table's 2.733).
    prior = Prior(1.0, 1.0, 1.0, 1.0, 0.5)
    assert ebgm(3, 1, prior) == pytest.approx(1.755881, abs=1e-6)
    assert eb_quantile(3, 1, prior) == pytest.approx(0.683159, abs=1e-6)


def test_ebgm_shrinks_a_small_count_towards_one_more_than_a_large_one():
    # Both cells are ten times their expected count; one contact over 0.1 is weak evidence of it.
    prior = Prior(*START)
    small, large = ebgm(1, 0.1, prior), ebgm(100, 10, prior)
    assert 1 < small < 2
    assert 9 < large < 10
    assert eb_quantile(1, 0.1, prior) < 1 < eb_quantile(100, 10, prior)


def test_the_fitted_prior_explains_the_cells_better_than_the_starting_one():
    cells = [(n, 2.0) for n in (0, 1, 2, 2, 3, 1, 2, 0, 4, 2)] + [(30, 2.0), (25, 1.5)]
    fitted = fit_prior(cells)
    assert log_likelihood(fitted, cells) > log_likelihood(Prior(*START), cells)
    assert 0 < fitted.p < 1


def fact(i: int, sku: str, code: str, days_ago: int, *, channel: str = "phone", verified: bool = True):
    return ContactFact(f"{sku}-{i}", sku, "", "IL", code, channel, TODAY - timedelta(days=days_ago), verified)


CODES = (TASTE, MOULD, "complaint.quality.texture", "complaint.packaging.seal", PLASTIC)
# Each product's steady weekly mix over the five codes: products differ, as real ones do.
MIXES = [(3, 1, 0, 1, 0), (1, 2, 1, 0, 0), (2, 0, 1, 1, 0), (1, 1, 0, 2, 0), (0, 2, 2, 1, 0), (2, 1, 1, 0, 1)]


def history(extra=()):
    """A year of six products' complaints, each with its steady mix, then `extra` in the last days."""
    found = []
    for week in range(52):
        for p, mix in enumerate(MIXES):
            for code, count in zip(CODES, mix, strict=True):
                for _ in range(count if code != PLASTIC or week % 4 == 0 else 0):
                    found.append(fact(len(found), f"SKU-{p}", code, 7 * week + 1 + len(found) % 5))
    return found + list(extra)


def test_a_product_whose_mix_turns_to_one_code_raises_prr_naming_its_contacts():
    cluster = [fact(1000 + i, "SKU-1", PLASTIC, i % 3) for i in range(10)]
    found = signals(history(cluster), today=TODAY)
    # EBGM, fitted to only 30 cells that are all in proportion but this one, shrinks it below EB05 >= 2:
    # the conservative side of the shrinker; PRR alone raises it here.
    assert {(s.method, s.sku, s.issue_code) for s in found} == {("prr", "SKU-1", PLASTIC)}
    prr = next(s for s in found if s.method == "prr")
    assert prr.observed == 10.0
    assert set(prr.contact_ids) == {f.contact_id for f in cluster}
    assert prr.score > 2


def test_a_steady_mix_raises_nothing_even_where_one_product_leans_to_one_code():
    # SKU-0 has always had three times the taste complaints of most: its profile, not a signal.
    assert signals(history(), today=TODAY) == []


def test_two_of_a_code_are_too_few_and_unverified_web_forms_weigh_a_quarter():
    two = [fact(1000 + i, "SKU-1", PLASTIC, i) for i in range(2)]
    spam = [fact(2000 + i, "SKU-2", PLASTIC, i, channel="web", verified=False) for i in range(8)]
    assert signals(history(two + spam), today=TODAY) == []


async def test_the_scenarios_cluster_raises_a_prr_alert_through_the_use_cases_and_the_best_seller_none():
    from tests.unit.insights.test_early_warning import loaded

    insights = await loaded()
    raised = await insights.recompute()
    mix = [a for a in raised if a.signal.method in ("prr", "ebgm")]
    assert [(a.signal.method, a.signal.sku, a.signal.issue_code, a.status) for a in mix] == [
        ("prr", "OAT-500", PLASTIC, "new")
    ]
    assert len(mix[0].signal.contact_ids) == 8
    assert await insights.recompute() == []
