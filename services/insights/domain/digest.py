"""The weekly digest: one ISO week's figures for the stakeholders (volumes by issue, rising issues, new
alerts, CPMU of the top products, CSAT and NPS), and the page they are printed from. Plain Python: the
figures come from the same domain functions as the dashboard and the reports; the PDF is drawn elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from services.insights.domain import reports, voice
from services.insights.domain import sales as sold
from services.insights.domain.alerts import Alert
from services.insights.domain.facts import ContactFact, issue_levels
from services.insights.domain.sales import SalesRow
from services.insights.domain.signals import COMPLAINT, Tuning
from services.insights.domain.staff import LIST_TITLES, week_days
from services.insights.domain.work import CaseWork, Rating

TOP_PRODUCTS = 5
TOP_ISSUES = 10


@dataclass(frozen=True)
class IssueVolume:
    issue_code: str  # the second level of the tree (complaint.quality)
    contacts: int
    week_before: int


@dataclass(frozen=True)
class ProductCpmu:
    sku: str
    complaints: float  # weighted, as the early warning counts them
    units: int
    cpmu: float
    no_sales: bool


@dataclass(frozen=True)
class Satisfaction:
    csat_answers: int
    csat_pct: float | None
    nps_answers: int
    nps: float | None


@dataclass(frozen=True)
class Digest:
    week: str
    start: date
    end: date
    contacts: int
    volumes: tuple[IssueVolume, ...]
    rising: tuple[voice.Rising, ...]
    alerts: tuple[Alert, ...]
    cpmu: tuple[ProductCpmu, ...]
    satisfaction: Satisfaction


def _level2(code: str) -> str:
    levels = issue_levels(code)
    return levels[min(1, len(levels) - 1)] if levels else "(none)"


def _volumes(facts: list[ContactFact], start: date) -> tuple[IssueVolume, ...]:
    def counted(first: date) -> Counter:
        return Counter(_level2(f.issue_code) for f in facts if first <= f.received_on <= first + timedelta(6))

    this, before = counted(start), counted(start - timedelta(days=7))
    ranked = sorted(this, key=lambda k: (-this[k], k))[:TOP_ISSUES]
    return tuple(IssueVolume(k, this[k], before[k]) for k in ranked)


def _cpmu(facts: list[ContactFact], sales: list[SalesRow], start: date) -> tuple[ProductCpmu, ...]:
    complaints = [f for f in facts if COMPLAINT in issue_levels(f.issue_code)]
    week = start.isoformat()
    rows = [r for r in sold.cpmu(complaints, sales, by="period") if r.period == week and r.contacts]
    rows.sort(key=lambda r: (-r.contacts, r.sku))
    return tuple(ProductCpmu(r.sku, r.contacts, r.units, r.cpmu, r.no_sales) for r in rows[:TOP_PRODUCTS])


def _overall(report: reports.Report, column: str) -> float | None:
    row = next(r for r in report.rows if r.key == "(all)")
    return row.values[report.columns.index(column)]


def _satisfaction(works: list[CaseWork], ratings: list[Rating], start: date, end: date, now: datetime):
    csat = reports.build("csat", works, ratings, now=now, since=start, until=end)
    nps = reports.build("nps", works, ratings, now=now, since=start, until=end)
    return Satisfaction(
        int(_overall(csat, "answers") or 0),
        _overall(csat, "csat_pct"),
        int(_overall(nps, "answers") or 0),
        _overall(nps, "nps"),
    )


def build(
    week: str,
    *,
    facts: list[ContactFact],
    sales: list[SalesRow],
    alerts: list[Alert],
    works: list[CaseWork],
    ratings: list[Rating],
    now: datetime,
    tuning: Tuning,
) -> Digest:
    start, end = week_days(week)
    seen = [f for f in facts if f.received_on <= end]  # as the week closed: later contacts are next week's
    raised = sorted(
        (a for a in alerts if start <= a.first_raised_at.date() <= end), key=lambda a: a.first_raised_at
    )
    return Digest(
        week=week,
        start=start,
        end=end,
        contacts=sum(1 for f in seen if f.received_on >= start),
        volumes=_volumes(seen, start),
        rising=tuple(voice.rising(seen, sales, today=end, tuning=tuning, limit=10)),
        alerts=tuple(raised),
        cpmu=_cpmu(seen, sales, start),
        satisfaction=_satisfaction(works, ratings, start, end, now),
    )


def _figure(value: float | None, unit: str = "") -> str:
    return "no answers" if value is None or value != value else f"{value:.1f}{unit}"


def _table(headers: tuple[str, ...], rows: list[tuple], empty: str) -> str:
    if not rows:
        return f"<p class='empty'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html(digest: Digest, audience: str) -> str:
    """The digest as one printable page (A4), every value escaped."""
    d, s = digest, digest.satisfaction
    volumes = [(v.issue_code, v.contacts, f"{v.contacts - v.week_before:+d}") for v in d.volumes]
    rising = [
        (r.sku, r.issue_code, r.region or "all", f"{r.observed:g}", f"{r.expected:.1f}", f"{r.score:.2f}",
         "alarm" if r.alarming else "")
        for r in d.rising
    ]  # fmt: skip
    alerts = [
        (a.signal.sku, a.signal.lot_code or "-", a.signal.region or "all", a.signal.issue_code, a.signal.method,
         f"{a.signal.observed:g}", f"{a.signal.expected:.2f}", f"{a.signal.score:.4g}", a.status)
        for a in d.alerts
    ]  # fmt: skip
    cpmu = [
        (p.sku, f"{p.complaints:g}", p.units or "no sales data", "-" if p.no_sales else f"{p.cpmu:.1f}")
        for p in d.cpmu
    ]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Weekly digest {
        d.week
    }</title>
<style>@page {{ size: A4; margin: 18mm }} body {{ font-family: sans-serif; font-size: 10pt }}
table {{ border-collapse: collapse; width: 100% }} th, td {{ border: 0.5pt solid #999; padding: 2pt 4pt;
text-align: left }} h1 {{ font-size: 16pt }} h2 {{ font-size: 12pt; margin-top: 12pt }}</style></head><body>
<h1>Consumer affairs weekly digest {d.week}</h1>
<p>For {escape(LIST_TITLES.get(audience, audience))}. Contacts received {d.start} to {d.end}: {
        d.contacts
    }.</p>
<h2>Contact volumes by issue</h2>
{_table(("issue", "contacts", "change on the week before"), volumes, "No contacts this week.")}
<h2>Rising issues</h2>
{_table(("product", "issue", "region", "observed", "expected", "GLR-CUSUM", ""), rising, "Nothing rising.")}
<h2>New alerts</h2>
{
        _table(
            ("product", "lot", "region", "issue", "method", "observed", "expected", "score", "status"),
            alerts,
            "No new alerts this week.",
        )
    }
<h2>Complaints per million units, top products</h2>
{_table(("product", "complaints", "units sold", "CPMU"), cpmu, "No complaints this week.")}
<h2>Satisfaction</h2>
<p>CSAT: {_figure(s.csat_pct, " %")} ({s.csat_answers} answers). NPS: {_figure(s.nps)} ({
        s.nps_answers
    } answers).</p>
</body></html>"""
