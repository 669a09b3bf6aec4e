"""Disproportionality: is an issue code a larger share of one product's complaints than of the others'?

Both methods look at the mix of a product's complaints, not at their number, so they need no sales data and
catch what a rising count hides (a product whose complaints are steady in number but have turned into
"foreign object"). Each cell is a product x issue code (every level of the tree below "complaint"), over
the last WINDOW_WEEKS weeks, with the contacts' weights (facts.py).

- **PRR**, the proportional reporting ratio (Evans, Waller and Davis, 2001), with the 2 x 2 table

        a = the product's complaints with the code      b = the product's other complaints
        c = the other products' with the code            d = the other products' other complaints

  PRR = (a / (a + b)) / (c / (c + d)); Yates-corrected chi-square on the same table. Evans' criteria:
  PRR >= 2, chi-square >= 4 and a >= 3.
- **EBGM**, DuMouchel's (1999) gamma-Poisson shrinker, as the FDA uses on its adverse-event reports. Each
  cell's count N is Poisson(lambda E), with E = (the product's complaints) x (the code's) / (all); lambda has
  a prior that is a mixture of two gammas, p Gamma(a1, b1) + (1 - p) Gamma(a2, b2), fitted by maximum
  likelihood to every cell (N is then a mixture of negative binomials). The posterior of lambda is again a
  mixture of two gammas; EBGM is the exponential of its mean log, EB05 its 5th percentile. A small count is
  shrunk towards 1, so a product with one odd complaint does not top the list. Signal: EB05 >= 2 and N >= 3.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.special import digamma, expit, gammainc, gammaln

from services.insights.domain.facts import ContactFact, issue_levels
from services.insights.domain.signals import COMPLAINT, Signal

WINDOW_WEEKS = 4
HISTORY_WEEKS = 52
PRR_MIN, CHI2_MIN, COUNT_MIN = 2.0, 4.0, 3.0
EB05_MIN = 2.0
# DuMouchel's starting point for the fit, as openEBGM's examples use it.
START = (0.2, 0.1, 2.0, 4.0, 1 / 3)


@dataclass(frozen=True)
class Table:
    """The 2 x 2 table of one product x issue code (weighted counts)."""

    a: float
    b: float
    c: float
    d: float

    @property
    def prr(self) -> float:
        if self.a + self.b <= 0:
            return 0.0
        if self.c <= 0:
            return math.inf if self.a > 0 else 0.0
        return (self.a / (self.a + self.b)) / (self.c / (self.c + self.d))

    @property
    def expected_at_others_share(self) -> float:
        """The product's count of the code were its share of it the other products'."""
        others = self.c + self.d
        return (self.a + self.b) * self.c / others if others > 0 else 0.0

    @property
    def chi_square(self) -> float:
        """Pearson's chi-square with Yates' continuity correction (Evans' criterion uses it)."""
        a, b, c, d = self.a, self.b, self.c, self.d
        n = a + b + c + d
        margins = (a + b) * (c + d) * (a + c) * (b + d)
        if margins <= 0:
            return 0.0
        return n * max(abs(a * d - b * c) - n / 2, 0.0) ** 2 / margins


@dataclass(frozen=True)
class Prior:
    """DuMouchel's two-gamma mixture prior on the ratio of observed to expected (gammas by shape, rate)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float


def _log_negbin(n: float, e: float, alpha: float, beta: float) -> float:
    """log P(N = n) when N | lambda ~ Poisson(lambda e) and lambda ~ Gamma(alpha, rate beta)."""
    return (
        gammaln(alpha + n) - gammaln(alpha) - gammaln(n + 1)
        + alpha * math.log(beta / (beta + e)) + n * math.log(e / (beta + e))
    )  # fmt: skip


def _weights(n: float, e: float, prior: Prior) -> float:
    """Q: the posterior probability that the cell's lambda comes from the first gamma."""
    first = math.log(prior.p) + _log_negbin(n, e, prior.alpha1, prior.beta1)
    second = math.log1p(-prior.p) + _log_negbin(n, e, prior.alpha2, prior.beta2)
    return float(expit(first - second))


def _log_marginals(n: np.ndarray, e: np.ndarray, prior: Prior) -> np.ndarray:
    """log P(N = n) under the mixture, for every cell at once."""

    def log_negbin(alpha: float, beta: float) -> np.ndarray:
        return (
            gammaln(alpha + n) - gammaln(alpha) - gammaln(n + 1)
            + alpha * np.log(beta / (beta + e)) + n * np.log(e / (beta + e))
        )  # fmt: skip

    return np.logaddexp(
        math.log(prior.p) + log_negbin(prior.alpha1, prior.beta1),
        math.log1p(-prior.p) + log_negbin(prior.alpha2, prior.beta2),
    )


def log_likelihood(prior: Prior, cells: Sequence[tuple[float, float]]) -> float:
    """The likelihood of the cells that have complaints, given that they have (N >= 1; the truncated form
    the FDA's and openEBGM's fits use): empty cells would otherwise pull one component onto zero and
    leave the other so tight around 1 that no cell could stand out of it."""
    kept = [(n, e) for n, e in cells if n > 0 and e > 0]
    if not kept:
        return 0.0
    n, e = (np.array(column, dtype=float) for column in zip(*kept, strict=True))
    zero = _log_marginals(np.zeros_like(e), e, prior)
    return float(np.sum(_log_marginals(n, e, prior) - np.log(np.maximum(-np.expm1(zero), 1e-300))))


def _prior_of(x: Sequence[float]) -> Prior:
    return Prior(*(math.exp(v) for v in x[:4]), p=float(min(max(expit(x[4]), 1e-6), 1 - 1e-6)))


def fit_prior(cells: Sequence[tuple[float, float]]) -> Prior:
    """The maximum-likelihood prior over every cell's (N, E); shapes and rates fitted on their logs and p
    on its logit, so the search is unconstrained. Starts from DuMouchel's point; keeps it if the search
    does no better (too few cells to say more)."""
    start = [math.log(v) for v in START[:4]] + [math.log(START[4] / (1 - START[4]))]
    usable = [(n, e) for n, e in cells if e > 0]
    if not usable:
        return _prior_of(start)

    def cost(x):
        prior = _prior_of(x)
        value = -log_likelihood(prior, usable)
        return value if math.isfinite(value) else 1e300

    found = minimize(
        cost, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8}
    )
    return _prior_of(found.x if found.fun <= cost(start) else start)


def ebgm(n: float, e: float, prior: Prior) -> float:
    """exp(E[log lambda | N = n]): the posterior geometric mean of observed over expected."""
    q = _weights(n, e, prior)
    mean_log = q * (digamma(prior.alpha1 + n) - math.log(prior.beta1 + e)) + (1 - q) * (
        digamma(prior.alpha2 + n) - math.log(prior.beta2 + e)
    )
    return float(math.exp(mean_log))


def eb_quantile(n: float, e: float, prior: Prior, level: float = 0.05) -> float:
    """The `level` quantile of the posterior of lambda (EB05 at 0.05)."""
    q = _weights(n, e, prior)

    def below(x: float) -> float:
        return (
            q * gammainc(prior.alpha1 + n, (prior.beta1 + e) * x)
            + (1 - q) * gammainc(prior.alpha2 + n, (prior.beta2 + e) * x)
            - level
        )

    high = 1.0
    while below(high) < 0:
        high *= 2
    return float(brentq(below, 0.0, high, xtol=1e-10))


@dataclass
class _Cells:
    """Weighted complaint counts in the window: per product x code, per product, per code and in all."""

    cell: dict[tuple[str, str], float]
    contacts: dict[tuple[str, str], list[ContactFact]]
    product: dict[str, float]
    code: dict[str, float]
    total: float


def _count(facts: Sequence[ContactFact], since: date, today: date) -> _Cells:
    cells = _Cells(defaultdict(float), defaultdict(list), defaultdict(float), defaultdict(float), 0.0)
    for f in facts:
        levels = issue_levels(f.issue_code)
        if not f.sku or not levels or levels[0] != COMPLAINT or not since <= f.received_on <= today:
            continue
        cells.product[f.sku] += f.weight
        cells.total += f.weight
        for level in levels[1:]:
            cells.cell[f.sku, level] += f.weight
            cells.contacts[f.sku, level].append(f)
            cells.code[level] += f.weight
    return cells


def _signal(method, sku, code, observed, expected, score, behind) -> Signal:
    """The period is that of the contacts behind it, first to last received."""
    ids = tuple(f.contact_id for f in behind)
    days = [f.received_on for f in behind]
    return Signal(
        method, sku, "", "", code, round(observed, 3), round(expected, 3), round(score, 3), ids,
        min(days), max(days),
    )  # fmt: skip


def _deepest(found: list[Signal]) -> list[Signal]:
    """Keep a code only if none of its sub-codes signals for the same product by the same method."""
    codes = {(s.method, s.sku, s.issue_code) for s in found}
    return [
        s
        for s in found
        if not any(m == s.method and k == s.sku and c.startswith(s.issue_code + ".") for m, k, c in codes)
    ]


def _table(cells: _Cells, sku: str, code: str) -> Table:
    a = cells.cell.get((sku, code), 0.0)
    product, of_code = cells.product.get(sku, 0.0), cells.code.get(code, 0.0)
    return Table(a, product - a, of_code - a, cells.total - product - of_code + a)


def _meets_evans(table: Table) -> bool:
    return table.a >= COUNT_MIN and table.prr >= PRR_MIN and table.chi_square >= CHI2_MIN


def aged_out(signal: Signal, today: date, weeks: int = WINDOW_WEEKS) -> bool:
    """Whether the first contacts behind a disproportionality alert have left the window: its figures
    then fall because time passed, which says nothing against it, so it is not withdrawn for it."""
    return signal.method in ("prr", "ebgm") and signal.period_start <= today - timedelta(weeks=weeks)


def _share_rose(now: _Cells, before: _Cells, sku: str, code: str) -> bool:
    if before.product.get(sku, 0.0) <= 0:
        return True
    then = before.cell.get((sku, code), 0.0) / before.product[sku]
    return now.cell.get((sku, code), 0.0) / now.product[sku] >= PRR_MIN * then


def signals(facts: Sequence[ContactFact], *, today: date, weeks: int = WINDOW_WEEKS) -> list[Signal]:
    """The PRR and EBGM signals of the last `weeks` weeks up to `today`.

    A cell signals only if the code's share of the product's complaints is at least PRR_MIN times its
    share in the year before the window (or the product had no complaints then): a cereal whose complaints have always been about taste is not news because
    another product's cluster of a different code makes taste look disproportionate for it by contrast
    (with few products, PRR's comparator is small and moves). The early warning is about a mix that
    changed."""
    since = today - timedelta(weeks=weeks) + timedelta(days=1)
    cells = _count(facts, since, today)
    if len(cells.product) < 2:
        return []  # one product has no others to be disproportionate against
    before = _count(facts, since - timedelta(weeks=HISTORY_WEEKS), since - timedelta(days=1))
    known = {pair for pair in cells.cell if not _share_rose(cells, before, *pair)}
    found = []
    pairs = [(sku, code) for sku in cells.product for code in cells.code]
    for sku, code in pairs:
        table = _table(cells, sku, code)
        a = table.a
        if _meets_evans(table) and (sku, code) not in known:
            score = table.prr if math.isfinite(table.prr) else 1e9
            found.append(
                _signal("prr", sku, code, a, table.expected_at_others_share, score, cells.contacts[sku, code])
            )
    expected = {(sku, code): cells.product[sku] * cells.code[code] / cells.total for sku, code in pairs}
    prior = fit_prior([(cells.cell.get(pair, 0.0), expected[pair]) for pair in pairs])
    for (sku, code), n in cells.cell.items():
        if (
            (sku, code) not in known
            and n >= COUNT_MIN
            and (eb05 := eb_quantile(n, expected[sku, code], prior)) >= EB05_MIN
        ):
            found.append(_signal("ebgm", sku, code, n, expected[sku, code], eb05, cells.contacts[sku, code]))
    return sorted(_deepest(found), key=lambda s: s.key)
