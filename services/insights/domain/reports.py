"""The operational reports: how fast and how well cases are worked, and how consumers rate it.

Each report is declared once in REPORTS (its columns and how a group of facts becomes a row); the gRPC
reply, the console's table, chart and CSV and the CLI's output are all read from that declaration.

Every report groups by team, agent, channel or issue (the issue code's first two levels,
complaint.quality), or not at all, and ends with a row for everything, "(all)". A period (since, until,
both inclusive, either open) picks the cases by when they were created, ratings by when they were answered.
The backlog is the exception: it is the cases open now, by age, whatever the period.

- Times are in hours. Median and p90 interpolate between ranks (p90 of 10, 20, 30, 40 is 37), over the
  cases answered (first response) or resolved (resolution); a group with none has no figure, not zero.
- SLA breaches: cases whose first response or resolution passed its due time (casework's `sla_breach`).
- First-contact resolution: the share of resolved cases resolved in the contact that first answered them
  (work.CaseWork.first_contact_resolution).
- CSAT: the share of CSAT answers scoring 4 or 5 of 1-5. NPS: promoters (9-10) less detractors (0-6), as a
  share of NPS answers, from -100 to 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from services.insights.domain.work import CaseWork, Rating

GROUPINGS = ("", "team", "agent", "channel", "issue")
ALL = "(all)"
NONE = "(none)"
ISSUE_LEVEL = 2
AGE_BANDS = ((1, "under_1d"), (3, "1_to_3d"), (7, "3_to_7d"), (14, "7_to_14d"), (None, "over_14d"))


class InvalidReport(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    key: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    by: str
    columns: tuple[str, ...]
    chart: tuple[str, ...]
    rows: tuple[Row, ...]


def percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between closest ranks (rank = share x (n - 1)); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _response_times(cases: list[CaseWork], now: datetime) -> tuple:
    answered = [c.first_response_seconds for c in cases if c.first_response_seconds is not None]
    resolved = [c.resolution_seconds for c in cases if c.resolution_seconds is not None]
    return (
        len(cases),
        len(answered),
        _hours(percentile(answered, 0.5)),
        _hours(percentile(answered, 0.9)),
        len(resolved),
        _hours(percentile(resolved, 0.5)),
        _hours(percentile(resolved, 0.9)),
    )


def _sla(cases: list[CaseWork], now: datetime) -> tuple:
    response = sum(1 for c in cases if c.sla_breach == "first_response")
    resolution = sum(1 for c in cases if c.sla_breach == "resolution")
    return len(cases), response, resolution, _share(response + resolution, len(cases))


def _fcr(cases: list[CaseWork], now: datetime) -> tuple:
    resolved = [c for c in cases if c.resolution_seconds is not None]
    first = sum(1 for c in resolved if c.first_contact_resolution)
    return len(resolved), first, _share(first, len(resolved))


def age_band(created_at: datetime, now: datetime) -> str:
    days = (now - created_at).total_seconds() / 86400.0
    return next(name for limit, name in AGE_BANDS if limit is None or days < limit)


def _backlog(cases: list[CaseWork], now: datetime) -> tuple:
    bands = [age_band(c.created_at, now) for c in cases]
    oldest = max(((now - c.created_at).total_seconds() / 86400.0 for c in cases), default=None)
    counts = tuple(bands.count(name) for _, name in AGE_BANDS)
    return (len(cases), *counts, None if oldest is None else round(oldest, 1))


def _csat(ratings: list[Rating], now: datetime) -> tuple:
    satisfied = sum(1 for r in ratings if r.score >= 4)
    mean = round(sum(r.score for r in ratings) / len(ratings), 2) if ratings else None
    return len(ratings), satisfied, _share(satisfied, len(ratings)), mean


def _nps(ratings: list[Rating], now: datetime) -> tuple:
    promoters = sum(1 for r in ratings if r.score >= 9)
    detractors = sum(1 for r in ratings if r.score <= 6)
    passives = len(ratings) - promoters - detractors
    score = round(100.0 * (promoters - detractors) / len(ratings), 1) if ratings else None
    return len(ratings), promoters, passives, detractors, score


@dataclass(frozen=True)
class Kind:
    title: str
    reads: str  # "cases", "open cases" or a survey kind
    columns: tuple[str, ...]
    chart: tuple[str, ...]  # the columns a chart of the report draws, one series each
    row: Callable[[list, datetime], tuple]


REPORTS: dict[str, Kind] = {
    "response-times": Kind(
        "Time to first response and to resolution (hours)",
        "cases",
        (
            "cases",
            "answered",
            "first_response_median_h",
            "first_response_p90_h",
            "resolved",
            "resolution_median_h",
            "resolution_p90_h",
        ),
        ("first_response_median_h", "first_response_p90_h", "resolution_median_h", "resolution_p90_h"),
        _response_times,
    ),
    "sla-breaches": Kind(
        "SLA breaches",
        "cases",
        ("cases", "first_response_breaches", "resolution_breaches", "breach_rate_pct"),
        ("first_response_breaches", "resolution_breaches"),
        _sla,
    ),
    "first-contact-resolution": Kind(
        "First-contact resolution", "cases", ("resolved", "first_contact", "fcr_pct"), ("fcr_pct",), _fcr
    ),
    "backlog": Kind(
        "Backlog: open cases by age",
        "open cases",
        ("open", *(name for _, name in AGE_BANDS), "oldest_days"),
        tuple(name for _, name in AGE_BANDS),
        _backlog,
    ),
    "csat": Kind(
        "CSAT (share scoring 4-5 of 5)",
        "csat",
        ("answers", "satisfied", "csat_pct", "mean_score"),
        ("csat_pct",),
        _csat,
    ),
    "nps": Kind(
        "NPS (promoters less detractors)",
        "nps",
        ("answers", "promoters", "passives", "detractors", "nps"),
        ("promoters", "passives", "detractors", "nps"),
        _nps,
    ),
}


def issue_group(code: str) -> str:
    return ".".join(code.split(".")[:ISSUE_LEVEL])


def _key(fact: CaseWork | Rating, by: str, issues: dict[str, str]) -> str:
    if by == "issue":
        code = fact.issue_code if isinstance(fact, CaseWork) else issues.get(fact.case_id, "")
        return issue_group(code) or NONE
    return getattr(fact, by) or NONE


def _within(moment: datetime, since: date | None, until: date | None) -> bool:
    day = moment.date()
    return (since is None or day >= since) and (until is None or day <= until)


def _chosen(kind: Kind, cases: Iterable[CaseWork], ratings: Iterable[Rating], since, until) -> list:
    if kind.reads == "open cases":
        return [c for c in cases if c.open]
    if kind.reads == "cases":
        return [c for c in cases if _within(c.created_at, since, until)]
    return [r for r in ratings if r.kind == kind.reads and _within(r.answered_at, since, until)]


def build(
    name: str,
    cases: list[CaseWork],
    ratings: list[Rating],
    *,
    now: datetime,
    by: str = "",
    since: date | None = None,
    until: date | None = None,
) -> Report:
    kind = REPORTS.get(name)
    if kind is None:
        raise InvalidReport(f"report: one of {', '.join(REPORTS)}")
    if by not in GROUPINGS:
        raise InvalidReport(f"by: one of {', '.join(g for g in GROUPINGS if g)}, or nothing")
    if since and until and since > until:
        raise InvalidReport("since: on or before until")
    chosen = _chosen(kind, cases, ratings, since, until)
    groups: dict[str, list] = {}
    if by:
        issues = {c.case_id: c.issue_code for c in cases}
        for fact in chosen:
            groups.setdefault(_key(fact, by, issues), []).append(fact)
    rows = [Row(key, kind.row(facts, now)) for key, facts in sorted(groups.items())]
    rows.append(Row(ALL, kind.row(chosen, now)))
    return Report(name, kind.title, by, kind.columns, kind.chart, tuple(rows))
