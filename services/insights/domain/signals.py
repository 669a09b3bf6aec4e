"""Signals from contacts and units sold: the GLR-CUSUM per product x issue level x region x week, and the
exact Poisson test per lot with Benjamini-Hochberg across every lot tested.

Expected counts are a rate times the units sold (the exposure). A series' rate is its own history before
its last guard weeks, with half a contact added (a clean history expects a little, not nothing); a series
with no history yet takes the rate of the same issue level over every product. Pooling a product with
history towards the others was tried and dropped: a small product with ten times the others' rate was
then expected to have a tenth of its usual complaints, and alarmed on its normal weeks.
A lot is tested against the rate of the rest of its product, so its own cluster does not dilute its test.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.insights.domain import calibration, counts
from services.insights.domain.facts import ContactFact, issue_levels
from services.insights.domain.sales import SalesRow, monday, weekly_units
from services.insights.domain.stats import CusumRun, benjamini_hochberg, glr_cusum, negative_binomial_upper_p

COMPLAINT = "complaint"
MIN_WEIGHTED_COUNT = 2.0
PRIOR_CONTACTS = 0.5
PERIODLESS = frozenset({"lot_poisson_bh", "prr", "ebgm"})


@dataclass(frozen=True)
class Tuning:
    """`false_alarm_rate` set (served: 1 in 1,000 series-weeks): each series' GLR threshold is the one
    calibrated to hold that rate at its expected weekly count (domain/calibration.py); None: the one
    `glr_threshold` for every series (served until then, with a window of 8: 1.63 false alarms per 1,000
    in bench/early_warning.py)."""

    glr_threshold: float = 5.0
    glr_window: int = 2
    guard_weeks: int = 4
    lot_q: float = 0.01
    false_alarm_rate: float | None = calibration.FALSE_ALARM_RATE

    def threshold(self, expected: list[float], alpha: float = 0.0) -> float:
        """The alarm threshold of a series with these expected weekly counts (the last window's mean)."""
        if self.false_alarm_rate is None:
            return self.glr_threshold
        recent = expected[-self.glr_window :] or [0.0]
        weekly = sum(recent) / len(recent)
        return calibration.glr_threshold(
            weekly, window=self.glr_window, alpha=alpha, rate=self.false_alarm_rate
        )


@dataclass(frozen=True)
class Signal:
    method: str
    sku: str
    lot_code: str
    region: str
    issue_code: str
    observed: float
    expected: float
    score: float
    contact_ids: tuple[str, ...]
    period_start: date
    period_end: date

    @property
    def key(self) -> str:
        # A lot, or a product's mix of issues, has one alert per issue level, growing as its contacts
        # come; a series one per alarm week.
        when = "" if self.method in PERIODLESS else self.period_end.isoformat()
        return "|".join((self.method, self.sku, self.lot_code, self.region, self.issue_code, when))

    @property
    def alert_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "crs-insights:" + self.key))


@dataclass
class _Series:
    counts: dict[date, float] = field(default_factory=lambda: defaultdict(float))
    contacts: dict[date, list[str]] = field(default_factory=lambda: defaultdict(list))


def _complaint_levels(code: str) -> list[str]:
    levels = issue_levels(code)
    return levels if levels and levels[0] == COMPLAINT else []


def _weeks(first: date, last: date) -> list[date]:
    found, week = [], monday(first)
    while week <= last:
        found.append(week)
        week += timedelta(days=7)
    return found


class Exposure:
    """Units sold by product, region and week, and in total by product and lot."""

    def __init__(self, sales: Iterable[SalesRow]):
        self.weekly: dict[tuple[str, str], dict[date, float]] = defaultdict(lambda: defaultdict(float))
        self.product: dict[str, float] = defaultdict(float)
        self.lot: dict[tuple[str, str], float] = defaultdict(float)
        self.lot_weeks: dict[tuple[str, str], set[date]] = defaultdict(set)
        self.regions: dict[str, set[str]] = defaultdict(set)
        for row in sales:
            self.product[row.sku] += row.units
            self.regions[row.sku].add(row.region)
            if row.lot_code:
                self.lot[row.sku, row.lot_code] += row.units
            for week, share in weekly_units(row).items():
                if row.lot_code:
                    self.lot_weeks[row.sku, row.lot_code].add(week)
                self.weekly[row.sku, row.region][week] += share
                self.weekly[row.sku, ""][week] += share

    def series(self, sku: str, region: str, weeks: list[date]) -> list[float] | None:
        """Units per week; a week without data takes the mean of those with; None: no sales at all."""
        known = self.weekly.get((sku, region))
        if not known:
            return None
        mean = sum(known.values()) / len(known)
        return [known.get(w, mean) or mean for w in weeks]


def _pooled_rates(facts: list[ContactFact], exposure: Exposure) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for f in facts:
        if f.sku in exposure.product:
            for level in _complaint_levels(f.issue_code):
                counts[level] += f.weight
    units = sum(exposure.product.values())
    return {level: c / units for level, c in counts.items()} if units else {}


def _series_regions(region: str, sold_in: set[str]) -> list[str]:
    """The series a contact counts in: its region's, and all regions' when the product sells in several.
    A contact without a region counts in all regions' alone (or the one region a product sells in)."""
    if len(sold_in) == 1:
        (only,) = sold_in
        return [only] if region in ("", only) else [region]
    return [region, ""] if region else [""]


def baseline(
    observed: list[float], units: list[float], kept: list[int], pooled: float, shared_alpha: float = 0.0
) -> counts.CountModel:
    """The count model of the series' weeks `kept` (domain/counts.py: its own rate with half a contact
    added, a season over a year's history, overdispersion where shown or `shared_alpha`, its product's);
    a series with no history takes the pooled rate."""
    model = counts.fit([observed[i] for i in kept], [units[i] for i in kept], kept, shared_alpha=shared_alpha)
    if model is not None:
        return model
    rate = pooled if pooled > 0 else PRIOR_CONTACTS / max(sum(units), 1.0)
    return counts.CountModel((math.log(rate),), 0.0)


@dataclass(frozen=True)
class Monitored:
    run: CusumRun
    expected: list[float]
    alpha: float  # the overdispersion the run took; 0: Poisson
    threshold: float


def monitor(
    observed: list[float], units: list[float], pooled: float, tuning: Tuning, shared_alpha: float = 0.0
) -> Monitored:
    """The GLR-CUSUM run and its expected counts. The model is fitted twice: the second time without the
    weeks the first run alarmed on, so a cluster that has aged into the baseline does not raise the rate
    that judges it (and quietly withdraw its own alert). `shared_alpha`: the product's overdispersion."""
    base = max(len(observed) - tuning.guard_weeks, 0)
    excluded: set[int] = set()
    for _ in range(2):
        model = baseline(observed, units, [i for i in range(base) if i not in excluded], pooled, shared_alpha)
        expected = model.expected(units, range(len(units)))
        threshold = tuning.threshold(expected, model.alpha)
        run = glr_cusum(observed, expected, threshold=threshold, window=tuning.glr_window, alpha=model.alpha)
        outbreak = {w for n in run.alarms for w in range(run.starts[n], n + 1)}
        if outbreak <= excluded:
            break
        excluded |= outbreak
    return Monitored(run, expected, model.alpha, threshold)


@dataclass(frozen=True)
class Watched:
    """One series as the GLR-CUSUM watches it: its weeks, observed and expected counts and the run.
    `units` is None for a product without sales data (then watched on its weekly counts)."""

    sku: str
    region: str
    issue_code: str
    weeks: list[date]
    observed: list[float]
    units: list[float] | None
    expected: list[float]
    run: CusumRun
    contacts: dict[date, list[str]]
    alpha: float = 0.0  # the counts' overdispersion; 0: Poisson
    threshold: float = Tuning().glr_threshold


def watched(
    facts: list[ContactFact], exposure: Exposure, *, today: date, tuning: Tuning = Tuning()
) -> list[Watched]:
    series: dict[tuple[str, str, str], _Series] = defaultdict(_Series)
    first = today
    for f in facts:
        if not f.sku or f.received_on > today:
            continue
        first = min(first, f.received_on)
        regions = _series_regions(f.region, exposure.regions.get(f.sku, set()))
        for level in _complaint_levels(f.issue_code):
            for region in regions:
                s = series[f.sku, region, level]
                s.counts[monday(f.received_on)] += f.weight
                s.contacts[monday(f.received_on)].append(f.contact_id)
    weeks = _weeks(first, today)
    pooled = _pooled_rates(facts, exposure)
    found, product_alpha = [], {}
    # The series over all regions first: a region's series too thin to show overdispersion takes its
    # product's, whose weeks swing together.
    for (sku, region, level), s in sorted(series.items(), key=lambda item: item[0][1] != ""):
        observed = [s.counts.get(w, 0.0) for w in weeks]
        units = exposure.series(sku, region, weeks)
        # No sales data: weekly counts against the product's own weekly mean.
        shared = product_alpha.get((sku, level), 0.0)
        m = monitor(observed, units or [1.0] * len(weeks), pooled.get(level, 0.0), tuning, shared)
        if region == "":
            product_alpha[sku, level] = m.alpha
        found.append(
            Watched(
                sku,
                region,
                level,
                weeks,
                observed,
                units,
                m.expected,
                m.run,
                s.contacts,
                m.alpha,
                m.threshold,
            )
        )
    return found


def series_signals(
    facts: list[ContactFact],
    exposure: Exposure,
    *,
    today: date,
    tuning: Tuning = Tuning(),
    watching: list[Watched] | None = None,
) -> list[Signal]:
    """The GLR-CUSUM's alarms; `watching`: the series already watched, else watched here."""
    found = []
    for w in watched(facts, exposure, today=today, tuning=tuning) if watching is None else watching:
        observed, expected, run, weeks = w.observed, w.expected, w.run, w.weeks
        for n in run.alarms:
            k = run.starts[n]
            seen = sum(observed[k : n + 1])
            if seen < MIN_WEIGHTED_COUNT:
                continue
            ids = tuple(c for week in weeks[k : n + 1] for c in w.contacts.get(week, ()))
            found.append(
                Signal(
                    "glr_cusum", w.sku, "", w.region, w.issue_code, round(seen, 3),
                    round(sum(expected[k : n + 1]), 3), round(run.statistics[n], 3), ids,
                    weeks[k], weeks[n] + timedelta(days=6),
                )
            )  # fmt: skip
    return found


def dispersion(watching: list[Watched]) -> dict[tuple[str, str], float]:
    """The weekly overdispersion of each product x issue level, from its series over all regions."""
    found: dict[tuple[str, str], float] = {}
    for w in watching:
        if w.region == "" or (w.sku, w.issue_code) not in found:
            found[w.sku, w.issue_code] = w.alpha
    return found


def lot_signals(
    facts: list[ContactFact],
    exposure: Exposure,
    *,
    tuning: Tuning = Tuning(),
    overdispersion: dict[tuple[str, str], float] | None = None,
) -> list[Signal]:
    """Each lot's contacts against the rest of its product's rate, BH across every lot. Where the
    product's weekly counts are overdispersed (`overdispersion`, by product x issue level) the test is the
    negative-binomial one; a lot's total over L weeks of sales has alpha / L (independent weeks)."""
    lot_counts: dict[tuple[str, str, str], float] = defaultdict(float)
    lot_contacts: dict[tuple[str, str, str], list[ContactFact]] = defaultdict(list)
    product_counts: dict[tuple[str, str], float] = defaultdict(float)
    for f in facts:
        for level in _complaint_levels(f.issue_code):
            product_counts[f.sku, level] += f.weight
            if f.lot_code:
                lot_counts[f.sku, f.lot_code, level] += f.weight
                lot_contacts[f.sku, f.lot_code, level].append(f)
    tests = []
    for (sku, level), total in product_counts.items():
        for (lot_sku, lot), units in exposure.lot.items():
            if lot_sku != sku or units <= 0:
                continue
            count = lot_counts.get((sku, lot, level), 0.0)
            rest_units = exposure.product[sku] - units
            if rest_units <= 0:
                continue
            rate = (total - count + PRIOR_CONTACTS) / rest_units
            alpha = (overdispersion or {}).get((sku, level), 0.0) / max(len(exposure.lot_weeks[sku, lot]), 1)
            p_value = negative_binomial_upper_p(count, rate * units, alpha)
            tests.append((sku, lot, level, count, rate * units, p_value))
    adjusted = benjamini_hochberg([t[5] for t in tests])
    found = []
    for (sku, lot, level, count, expected, _), q in zip(tests, adjusted, strict=True):
        if q > tuning.lot_q or count < MIN_WEIGHTED_COUNT:
            continue
        behind = lot_contacts[sku, lot, level]
        days = [f.received_on for f in behind]
        found.append(
            Signal(
                "lot_poisson_bh", sku, lot, "", level, round(count, 3), round(expected, 3), q,
                tuple(f.contact_id for f in behind), min(days), max(days),
            )
        )  # fmt: skip
    return found


def deepest(signals: list[Signal]) -> list[Signal]:
    """One signal per place and time: the most specific issue level that signals there."""
    best: dict[tuple, Signal] = {}
    for s in signals:
        where = (s.method, s.sku, s.lot_code, s.region, "" if s.method == "lot_poisson_bh" else s.period_end)
        kept = best.get(where)
        if kept is None or s.issue_code.count(".") > kept.issue_code.count("."):
            best[where] = s
    return sorted(best.values(), key=lambda s: s.key)


def compute(
    facts: list[ContactFact], sales: list[SalesRow], *, today: date, tuning: Tuning = Tuning()
) -> list[Signal]:
    # Imported here: disproportionality builds on this module's Signal.
    from services.insights.domain import disproportionality

    exposure = Exposure(sales)
    watching = watched(facts, exposure, today=today, tuning=tuning)
    return deepest(
        series_signals(facts, exposure, today=today, tuning=tuning, watching=watching)
        + lot_signals(facts, exposure, tuning=tuning, overdispersion=dispersion(watching))
    ) + disproportionality.signals(facts, today=today)
