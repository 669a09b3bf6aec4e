"""Staff mail: the stakeholders an admin lists, and the mail insights owes them (an alert to quality
assurance, a regulatory warning to legal). Plain Python: what is sent and to whom, never how.

A stakeholder is staff (a name and a work address with the list it is on), not a consumer, so keeping them
is no personal data of the kind erasure reaches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.insights.domain.alerts import Alert

LISTS = ("marketing", "qa", "legal")
LIST_TITLES = {"marketing": "Marketing", "qa": "Quality assurance", "legal": "Legal"}
EDITORS = frozenset({"admin"})
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{2,63}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class InvalidStakeholder(ValueError):
    pass


class InvalidWeek(ValueError):
    pass


@dataclass(frozen=True)
class Stakeholder:
    email: str
    role: str  # the list: marketing, qa or legal
    name: str


@dataclass(frozen=True)
class Mail:
    """One email to one person; `key` makes channels send it once, however often it is asked."""

    key: str
    to_address: str
    subject: str
    body: str
    attachment_name: str = ""
    attachment: bytes = b""


def stakeholder(email: str, role: str, name: str) -> Stakeholder:
    email, name = email.strip().lower(), " ".join(name.split())
    if not email.isascii() or not _ADDRESS.match(email):
        raise InvalidStakeholder(f"email: not an email address: {email[:80]!r}")
    if role not in LISTS:
        raise InvalidStakeholder(f"role: one of {', '.join(LISTS)}")
    if not 1 <= len(name) <= 200:
        raise InvalidStakeholder("name: 1 to 200 characters")
    return Stakeholder(email, role, name)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_days(week: str) -> tuple[date, date]:
    """The Monday and the Sunday of an ISO week YYYY-Www."""
    found = _WEEK.match(week)
    if not found:
        raise InvalidWeek("week: YYYY-Www, an ISO week such as 2026-W48")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise InvalidWeek(f"week: {week} is no ISO week") from None
    return monday, monday + timedelta(days=6)


def last_full_week(now: datetime) -> str:
    """The ISO week that ended before `now`'s week began: the one the weekly digest reports on."""
    return iso_week(now.date() - timedelta(days=7))


def alert_mails(alert: Alert, qa: list[Stakeholder], console_url: str) -> list[Mail]:
    s = alert.signal
    where = f"lot {s.lot_code}" if s.lot_code else "every lot"
    subject = f"New alert: {s.sku}, {s.issue_code}, {s.region or 'every region'} ({s.method})"
    body = "\n".join(
        (
            "The early warning raised a new alert.",
            "",
            f"Product:   {s.sku} ({where})",
            f"Region:    {s.region or 'every region'}",
            f"Issue:     {s.issue_code}",
            f"Method:    {s.method}",
            f"Observed:  {s.observed:g} (weighted complaints)",
            f"Expected:  {s.expected:.2f}",
            f"Score:     {s.score:.4g}",
            f"Contacts:  {len(s.contact_ids)}, received {s.period_start} to {s.period_end}",
            f"Raised:    {alert.first_raised_at:%Y-%m-%d %H:%M} UTC",
            "",
            f"Open it in the console: {console_url.rstrip('/')}/insights/alerts#alert-{alert.id}",
        )
    )
    return [Mail(f"alert:{alert.id}:{p.email}", p.email, subject, body + "\n") for p in qa]


def regulatory_mails(warning: dict, event_id: str, console_url: str) -> list[Mail]:
    """Contacts' regulatory_deadline_near, to the addresses the regime names (its `notify`)."""
    clock = warning.get("clock") or {}
    case = warning.get("contact_id", "")
    reference = warning.get("reference", "")
    regime = clock.get("regime_name") or clock.get("regime") or "the regime"
    form = " ".join(p for p in (clock.get("authority", ""), clock.get("form", "")) if p) or "the report"
    due = clock.get("due_at") or "soon"
    subject = f"Regulatory report due: case {reference or case} ({regime})"
    body = "\n".join(
        (
            f"A case's {form} under {regime} falls due and is not filed yet.",
            "",
            f"Case:      {reference or case}",
            f"Issue:     {warning.get('issue_code', '')}",
            f"Due:       {due} ({clock.get('deadline', '')}, {clock.get('state', '')})",
            f"Assignee:  {warning.get('assignee') or 'nobody'}",
            "",
            f"Open it in the console: {console_url.rstrip('/')}/cases/view?id={case}",
        )
    )
    addresses = sorted({a.strip().lower() for a in warning.get("notify") or () if _ADDRESS.match(a.strip())})
    return [Mail(f"regulatory:{event_id}:{a}", a, subject, body + "\n") for a in addresses]
