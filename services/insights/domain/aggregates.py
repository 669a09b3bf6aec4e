"""Contacts counted per cell (product, lot, region, issue code, channel, received day), kept as contacts
arrive, so that the early warning reads cells, not contacts.

A contact's later version moves its count from its old cell to its new one (`moves`). The detectors
(signals.py, disproportionality.py) take contacts; they are given one `CellFact` per series-week instead,
weighing what the week's contacts weigh together, so they run unchanged over far fewer rows. They look at
received days in three places only, which `split_weeks` keeps to the day: contacts after today are left
out, and disproportionality's window and the year before it start on the weekday after today's. Every
other week is one row. `resolve` then puts the real contacts back behind each signal (and, where a signal's
period is its contacts' first and last day, that period).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from services.insights.domain.disproportionality import HISTORY_WEEKS, WINDOW_WEEKS
from services.insights.domain.facts import ContactFact
from services.insights.domain.sales import monday
from services.insights.domain.signals import Signal

# Signals whose period is the first and last day of the contacts behind them (not alarm weeks).
PERIOD_OF_CONTACTS = frozenset({"lot_poisson_bh", "prr", "ebgm"})
_SEPARATOR = "\x1f"

CellKey = tuple[str, str, str, str, str, date]  # sku, lot_code, region, issue_code, channel, received_on


@dataclass(frozen=True)
class Move:
    key: CellKey
    contacts: int
    weight: float


@dataclass(frozen=True)
class Cell:
    sku: str
    lot_code: str
    region: str
    issue_code: str
    channel: str
    received_on: date
    contacts: int
    weight: float

    @property
    def key(self) -> CellKey:
        return (self.sku, self.lot_code, self.region, self.issue_code, self.channel, self.received_on)


def key_of(fact: ContactFact) -> CellKey:
    return (fact.sku, fact.lot_code, fact.region, fact.issue_code, fact.channel, fact.received_on)


def moves(before: ContactFact | None, after: ContactFact) -> list[Move]:
    """What taking `after` (a contact's new version, `before` its last) does to the cells."""
    if before is not None and key_of(before) == key_of(after) and before.weight == after.weight:
        return []
    found = [] if before is None else [Move(key_of(before), -1, -before.weight)]
    return [*found, Move(key_of(after), 1, after.weight)]


def apply(cells: dict[CellKey, Cell], changes: Iterable[Move]) -> None:
    """Cells in memory (a fake store, a benchmark) moved as the SQL store moves its rows."""
    for m in changes:
        held = cells.get(m.key)
        contacts = (held.contacts if held else 0) + m.contacts
        weight = (held.weight if held else 0.0) + m.weight
        if contacts:
            cells[m.key] = Cell(*m.key, contacts, weight)
        else:
            cells.pop(m.key, None)


def split_weeks(today: date) -> frozenset[date]:
    """The weeks (Mondays) the detectors must see day by day; see the module's docstring."""
    since = today - timedelta(weeks=WINDOW_WEEKS) + timedelta(days=1)
    return frozenset({monday(today), monday(since), monday(since - timedelta(weeks=HISTORY_WEEKS))})


@dataclass(frozen=True)
class Span:
    """The contacts of one product, lot, region and issue code received from `first` to `last`."""

    sku: str
    lot_code: str
    region: str
    issue_code: str
    first: date
    last: date

    @property
    def token(self) -> str:
        parts = (
            self.sku,
            self.lot_code,
            self.region,
            self.issue_code,
            self.first.isoformat(),
            self.last.isoformat(),
        )
        return _SEPARATOR.join(parts)

    @classmethod
    def of(cls, token: str) -> Span:
        sku, lot, region, code, first, last = token.split(_SEPARATOR)
        return cls(sku, lot, region, code, date.fromisoformat(first), date.fromisoformat(last))


@dataclass(frozen=True)
class CellFact(ContactFact):
    """The contacts of one span, as one contact weighing what they weigh together."""

    total_weight: float = 0.0

    @property
    def weight(self) -> float:
        return self.total_weight


def span_fact(span: Span, weight: float) -> CellFact:
    return CellFact(
        span.token, span.sku, span.lot_code, span.region, span.issue_code, "", span.first, False, weight
    )


def span_of(cell: Cell, split: frozenset[date]) -> Span:
    week = monday(cell.received_on)
    first, last = (cell.received_on,) * 2 if week in split else (week, week + timedelta(days=6))
    return Span(cell.sku, cell.lot_code, cell.region, cell.issue_code, first, last)


def roll_up(cells: Iterable[Cell], split: frozenset[date]) -> list[CellFact]:
    """The detectors' rows from day cells: a week per span, a day in the split weeks (the SQL store does
    the same in its query)."""
    weights: dict[Span, float] = defaultdict(float)
    for c in cells:
        weights[span_of(c, split)] += c.weight
    return [span_fact(s, w) for s, w in weights.items()]


def resolve(found: list[Signal], behind: Mapping[str, list[tuple[str, date]]]) -> list[Signal]:
    """Each signal with the contacts of its spans (ids and received days, from `behind`), oldest first."""
    resolved = []
    for s in found:
        contacts = sorted((day, cid) for token in s.contact_ids for cid, day in behind.get(token, ()))
        period = (contacts[0][0], contacts[-1][0]) if s.method in PERIOD_OF_CONTACTS and contacts else None
        first, last = period or (s.period_start, s.period_end)
        resolved.append(
            replace(s, contact_ids=tuple(c for _, c in contacts), period_start=first, period_end=last)
        )
    return resolved


def tokens(found: list[Signal]) -> list[str]:
    return sorted({t for s in found for t in s.contact_ids})
