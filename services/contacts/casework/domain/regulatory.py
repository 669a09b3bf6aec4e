"""Regulatory clocks: which reporting regime a health-and-safety case falls under, when its report is due,
and whether it is on time, due soon (legal is warned) or late.

Regimes and holidays are data (the regulatory_regime and business_holiday tables). A deadline counts from
when the company learned of the case (its received time, `occurred_at`), in hours or in business days;
business days skip Saturdays, Sundays and the holidays, and are counted on UTC dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.contacts.casework.exceptions import InvalidInput

UNITS = ("business_days", "hours")
SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("on_time", "warning", "breached", "filed", "filed_late")
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
_ISSUE = re.compile(r"^[a-z0-9_]{1,40}(\.[a-z0-9_]{1,40}){0,5}$")


@dataclass(frozen=True)
class Span:
    """A length of time a regime counts in: N hours, or N business days."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount} {'business day' if self.unit == 'business_days' else 'hour'}" + (
            "s" if self.amount != 1 else ""
        )


class BusinessCalendar:
    """Weekdays that are not holidays, and counting them forward and back."""

    def __init__(self, holidays: Iterable[date] = ()):
        self.holidays = frozenset(holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _step(self, moment: datetime, days: int, direction: int) -> datetime:
        counted = 0
        while counted < days:
            moment += timedelta(days=direction)
            if self.is_business_day(moment.date()):
                counted += 1
        return moment

    def after(self, start: datetime, span: Span) -> datetime:
        """`span` after `start`: the Nth business day after its date, at the same time of day."""
        if span.unit == "hours":
            return start + timedelta(hours=span.amount)
        return self._step(start, span.amount, 1)

    def before(self, end: datetime, span: Span) -> datetime:
        if span.unit == "hours":
            return end - timedelta(hours=span.amount)
        return self._step(end, span.amount, -1)


@dataclass(frozen=True)
class Regime:
    code: str
    name: str
    authority: str
    form: str
    issue_prefixes: tuple[str, ...]
    deadline: Span
    warn_before: Span
    min_severity: str = ""
    form_fields: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    active: bool = True

    def matched_prefix(self, issue_code: str, severity: str) -> int:
        """How specific a fit the case is (the length of the prefix it is under); 0: it does not apply."""
        if not self.active or not issue_code:
            return 0
        if self.min_severity and SEVERITIES.index(severity or "low") < SEVERITIES.index(self.min_severity):
            return 0
        fits = [p for p in self.issue_prefixes if issue_code == p or issue_code.startswith(p + ".")]
        return max((len(p) for p in fits), default=0)


@dataclass(frozen=True)
class Filing:
    """The report as filed with the authority: when, by whom, and the authority's reference."""

    reported_at: datetime
    reported_by: str
    reference: str = ""


@dataclass(frozen=True)
class ReportClock:
    regime: Regime
    received_at: datetime
    due_at: datetime
    warn_at: datetime
    filing: Filing | None = None

    def state(self, now: datetime) -> str:
        if self.filing is not None:
            return "filed" if self.filing.reported_at <= self.due_at else "filed_late"
        if now >= self.due_at:
            return "breached"
        return "warning" if now >= self.warn_at else "on_time"

    def needs_warning(self, now: datetime) -> bool:
        return self.filing is None and now >= self.warn_at

    @property
    def report_name(self) -> str:
        return f"{self.regime.authority} {self.regime.form or self.regime.name}"

    def filing_note(self) -> str:
        """The timeline's line for the filing."""
        filing = self.filing
        reference = f", reference {filing.reference}" if filing.reference else ""
        late = " (after the deadline)" if filing.reported_at > self.due_at else ""
        return f"{self.report_name} filed {filing.reported_at:%Y-%m-%d %H:%M} UTC{reference}{late}"

    def warning_note(self) -> str:
        """The timeline's line for legal's warning."""
        return f"{self.report_name} due {self.due_at:%Y-%m-%d %H:%M} UTC and not filed: legal warned"

    def filed(self, filing: Filing) -> ReportClock:
        if filing.reported_at < self.received_at:
            raise InvalidInput("reported_at: a report cannot be filed before the case was received")
        return replace(self, filing=filing)


def regime_for(regimes: Iterable[Regime], *, issue_code: str, severity: str) -> Regime | None:
    """The regime a case is reported under: the most specific issue fit; of equals, the one named first."""
    fits = [(r.matched_prefix(issue_code, severity), r) for r in regimes]
    best = max((score for score, _ in fits), default=0)
    return next((r for score, r in fits if score and score == best), None)


def clock_for(
    regimes: Iterable[Regime],
    calendar: BusinessCalendar,
    *,
    issue_code: str,
    severity: str,
    received_at: datetime,
    filing: Filing | None = None,
) -> ReportClock | None:
    """The case's reporting clock, or None when no regime applies to it."""
    regime = regime_for(regimes, issue_code=issue_code, severity=severity)
    if regime is None:
        return None
    due = calendar.after(received_at, regime.deadline)
    return ReportClock(regime, received_at, due, calendar.before(due, regime.warn_before), filing)


def _span(given: dict, name: str, low: int) -> Span:
    amount, unit = given.get(f"{name}_amount"), given.get(f"{name}_unit")
    if not isinstance(amount, int) or not low <= amount <= 1000:
        raise InvalidInput(f"{name}_amount: a whole number from {low} to 1000")
    if unit not in UNITS:
        raise InvalidInput(f"{name}_unit: one of {', '.join(UNITS)}")
    return Span(amount, unit)


def _text(given: dict, name: str, limit: int, *, required: bool = True) -> str:
    value = given.get(name, "")
    if not isinstance(value, str) or len(value.strip()) > limit or (required and not value.strip()):
        raise InvalidInput(f"{name}: {'required, ' if required else ''}text of at most {limit} characters")
    return value.strip()


def _names(given: dict, name: str, pattern: re.Pattern | None = None, known=None) -> tuple[str, ...]:
    values = given.get(name, [])
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{name}: a list of names")
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    for value in cleaned:
        if (pattern and not pattern.match(value)) or (known is not None and value not in known):
            raise InvalidInput(f"{name}: {value[:60]!r} is not one")
    return cleaned


def clean_regime(given: dict, *, form_fields: Iterable[str]) -> Regime:
    """A regime from an admin's input, checked; raises InvalidInput naming the field."""
    code = _text(given, "code", 40)
    if not _CODE.match(code):
        raise InvalidInput("code: lower-case letters, digits and underscores, at most 40")
    prefixes = _names(given, "issue_prefixes", _ISSUE)
    if not prefixes:
        raise InvalidInput("issue_prefixes: which cases does the regime apply to? name an issue code")
    severity = given.get("min_severity", "")
    if severity not in ("", *SEVERITIES):
        raise InvalidInput(f"min_severity: empty or one of {', '.join(SEVERITIES)}")
    notify = _names(given, "notify")
    if any("@" not in address or len(address) > 200 for address in notify):
        raise InvalidInput("notify: email addresses")
    return Regime(
        code=code,
        name=_text(given, "name", 200),
        authority=_text(given, "authority", 200),
        form=_text(given, "form", 200, required=False),
        issue_prefixes=prefixes,
        deadline=_span(given, "deadline", 1),
        warn_before=_span(given, "warn", 0),
        min_severity=severity,
        form_fields=_names(given, "form_fields", known=frozenset(form_fields)),
        notify=notify,
        active=bool(given.get("active", True)),
    )


def clean_day(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except (TypeError, ValueError):
        raise InvalidInput("day: a date such as 2026-12-25") from None


def clean_holiday(day: str, name: str) -> tuple[date, str]:
    return clean_day(day), _text({"name": name}, "name", 120)
