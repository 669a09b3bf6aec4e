"""The voice of the consumer, as the dashboard charts it: contact volumes by week, the rising issues ranked
by how unusual they are, and complaints per million units by week against the limits the early warning's
own model sets. Each point can be opened onto the contacts behind it (`Slice`), by id only: insights holds
no personal data, and the console fetches the cases from casework under the caller's own access rules.

Volumes count contacts as they came (a spam submission is one contact in a volume chart); the rising issues
and the CPMU limits use the early warning's weights and expected counts (signals.py), so what the chart
calls unusual is what the early warning would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from scipy.stats import poisson

from services.insights.domain.facts import ContactFact, issue_levels
from services.insights.domain.sales import SalesRow, monday
from services.insights.domain.signals import Exposure, Tuning, Watched, watched

DIMENSIONS = ("issue", "product", "region", "channel")
PRAISE = "compliment"
# The upper control limit: the Poisson quantile of the expected count that three sigmas would put a
# normal chart's limit at (99.865 %), exact for the small counts a week of one product has.
UPPER_QUANTILE = 0.99865
MAX_KEYS = 50
MAX_WEEKS = 156
UNKNOWN = "(none)"
DEFAULT_TUNING = Tuning()


class InvalidQuery(ValueError):
    pass


@dataclass(frozen=True)
class Slice:
    """Which contacts a chart's point stands for; an empty field does not narrow."""

    sku: str = ""
    lot_code: str = ""
    region: str = ""
    channel: str = ""
    issue_code: str = ""  # this code and everything under it
    start: date | None = None
    end: date | None = None

    def holds(self, fact: ContactFact) -> bool:
        return (
            (not self.sku or fact.sku == self.sku)
            and (not self.lot_code or fact.lot_code == self.lot_code)
            and (not self.region or fact.region == self.region)
            and (not self.channel or fact.channel == self.channel)
            and (not self.issue_code or self.issue_code in issue_levels(fact.issue_code))
            and (self.start is None or fact.received_on >= self.start)
            and (self.end is None or fact.received_on <= self.end)
        )


@dataclass(frozen=True)
class VolumePoint:
    week: date
    key: str
    contacts: int


@dataclass(frozen=True)
class Volumes:
    weeks: list[date]
    keys: list[str]  # the busiest first
    points: list[VolumePoint]
    keys_left_off: int


def weeks_back(today: date, weeks: int) -> list[date]:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidQuery(f"weeks: 1 to {MAX_WEEKS}")
    last = monday(today)
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _key(fact: ContactFact, by: str, level: int) -> str:
    if by == "issue":
        levels = issue_levels(fact.issue_code)
        return levels[min(level, len(levels)) - 1] if levels else UNKNOWN
    value = {"product": fact.sku, "region": fact.region, "channel": fact.channel}[by]
    return value or UNKNOWN


@dataclass(frozen=True)
class VolumeQuery:
    """Which contacts a volume chart counts, and by what: received from `first` to `last`, under
    `issue_code` (every code when empty), by a dimension (an issue at `level` of the tree)."""

    by: str
    first: date
    last: date
    issue_code: str = ""
    level: int = 2


def volume_query(
    *, by: str, today: date, weeks: int = 26, issue_code: str = "", level: int = 2, max_keys: int = 8
) -> tuple[VolumeQuery, list[date]]:
    if by not in DIMENSIONS:
        raise InvalidQuery(f"by: one of {', '.join(DIMENSIONS)}")
    if not 1 <= level <= 6 or not 1 <= max_keys <= MAX_KEYS:
        raise InvalidQuery(f"level: 1 to 6; keys: 1 to {MAX_KEYS}")
    span = weeks_back(today, weeks)
    return VolumeQuery(by, span[0], span[-1] + timedelta(days=6), issue_code, level), span


def count_volumes(cells: Iterable, query: VolumeQuery) -> dict[tuple[date, str], int]:
    """Contacts per week and key, of contact cells (or contacts, each counting one), as the store's
    query counts them."""
    within = Slice(issue_code=query.issue_code, start=query.first, end=query.last)
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for c in cells:
        if within.holds(c):
            counts[monday(c.received_on), _key(c, query.by, query.level)] += getattr(c, "contacts", 1)
    return counts


def ranked_volumes(counts: dict[tuple[date, str], int], span: list[date], max_keys: int = 8) -> Volumes:
    """The busiest keys first, every week of the span for each (zero where none came)."""
    totals: dict[str, int] = defaultdict(int)
    for (_, key), n in counts.items():
        totals[key] += n
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    kept = ranked[:max_keys]
    points = [VolumePoint(w, k, counts.get((w, k), 0)) for k in kept for w in span]
    return Volumes(span, kept, points, len(ranked) - len(kept))


@dataclass(frozen=True)
class Rising:
    sku: str
    region: str  # empty: all the product's regions
    issue_code: str
    observed: float  # weighted, since the increase began
    expected: float
    score: float  # the GLR-CUSUM statistic this week; the early warning alarms at the series' threshold
    start: date
    end: date
    alarming: bool


def rising(
    facts: list[ContactFact],
    sales: list[SalesRow],
    *,
    today: date,
    tuning: Tuning = DEFAULT_TUNING,
    limit: int = 10,
) -> list[Rising]:
    """The complaint series (product x issue level x region) whose GLR-CUSUM statistic stands highest this
    week: the most unusual first. Of the issue levels of one product and region rising over the same
    weeks, only the most specific is kept, as the early warning keeps it."""
    if not 1 <= limit <= MAX_KEYS:
        raise InvalidQuery(f"limit: 1 to {MAX_KEYS}")
    found: dict[tuple, Rising] = {}
    for w in watched(facts, Exposure(sales), today=today, tuning=tuning):
        if not w.weeks or w.weeks[-1] != monday(today):
            continue
        n = len(w.weeks) - 1
        score = w.run.statistics[n]
        if score <= 0:
            continue
        k = w.run.starts[n]
        row = Rising(
            w.sku, w.region, w.issue_code, round(sum(w.observed[k:]), 3), round(sum(w.expected[k:]), 3),
            round(score, 3), w.weeks[k], w.weeks[n] + timedelta(days=6), score >= w.threshold,
        )  # fmt: skip
        where = (w.sku, w.region, w.weeks[k])
        kept = found.get(where)
        if kept is None or row.issue_code.count(".") > kept.issue_code.count("."):
            found[where] = row
    return sorted(found.values(), key=lambda r: (-r.score, r.sku, r.region, r.issue_code))[:limit]


@dataclass(frozen=True)
class CpmuPoint:
    week: date
    units: float
    observed: float  # weighted complaints
    expected: float
    cpmu: float
    expected_cpmu: float
    upper_cpmu: float
    above: bool  # observed beyond the upper limit


@dataclass(frozen=True)
class CpmuTrend:
    sku: str
    no_sales: bool  # then the figures are weekly counts, not per million units
    points: list[CpmuPoint]


def _per_million(count: float, units: float, no_sales: bool) -> float:
    """Per million units; the count itself for a product without sales data."""
    if no_sales:
        return round(count, 3)
    return round(count * 1e6 / units, 3) if units else 0.0


def cpmu_trend(
    facts: list[ContactFact],
    sales: list[SalesRow],
    *,
    today: date,
    weeks: int = 26,
    sku: str = "",
    tuning: Tuning = DEFAULT_TUNING,
) -> list[CpmuTrend]:
    """Complaints per million units by week for each product (or `sku`), over all its regions, with the
    expected rate and the upper control limit of the early warning's model for the product's complaints."""
    span = set(weeks_back(today, weeks))
    # A product sold in one region is watched in that region alone; in several, also over all of them.
    exposure = Exposure(sales)
    whole: dict[str, Watched] = {}

    def rank(w: Watched) -> int:
        return 0 if not w.region else 1 if w.region in exposure.regions.get(w.sku, ()) else 2

    for w in watched(facts, exposure, today=today, tuning=tuning):
        if w.issue_code == "complaint" and (not sku or w.sku == sku):
            if w.sku not in whole or rank(w) < rank(whole[w.sku]):
                whole[w.sku] = w
    trends = []
    for w in whole.values():
        no_sales = w.units is None
        units = w.units or [1.0] * len(w.weeks)
        points = []
        for week, u, seen, mean in zip(w.weeks, units, w.observed, w.expected, strict=True):
            if week not in span:
                continue
            upper = float(poisson.ppf(UPPER_QUANTILE, mean)) if mean > 0 else 0.0
            points.append(
                CpmuPoint(
                    week, round(u, 1), round(seen, 3), round(mean, 3), _per_million(seen, u, no_sales),
                    _per_million(mean, u, no_sales), _per_million(upper, u, no_sales), seen > upper,
                )
            )  # fmt: skip
        trends.append(CpmuTrend(w.sku, no_sales, points))
    return sorted(trends, key=lambda t: t.sku)


def contacts_in(facts: list[ContactFact], where: Slice, limit: int = 200) -> tuple[list[ContactFact], int]:
    """The contacts behind a point, newest first, at most `limit`, and how many there are in all."""
    if not 1 <= limit <= 1000:
        raise InvalidQuery("limit: 1 to 1000")
    if where.start and where.end and where.end < where.start:
        raise InvalidQuery("the slice ends before it starts")
    chosen = sorted(
        (f for f in facts if where.holds(f)), key=lambda f: (f.received_on, f.contact_id), reverse=True
    )
    return chosen[:limit], len(chosen)
