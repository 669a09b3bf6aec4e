"""Units sold, as retailers' point-of-sale or shipment data arrive, and complaints per million units.

A row gives the units of a product (and maybe one lot) in a region over a period; the units are taken as
spread evenly over the period's days, so a week's exposure is the share of each row's days in that week.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from services.insights.domain.facts import ContactFact

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
COLUMNS = ("sku", "lot_code", "region", "period_start", "period_end", "units")
MAX_PERIOD_DAYS = 366


class InvalidSales(ValueError):
    """A sales line that cannot be used; the message names the line and the field."""


@dataclass(frozen=True)
class SalesRow:
    sku: str
    lot_code: str
    region: str
    period_start: date
    period_end: date
    units: int

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1


def _date(text: str, field: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidSales(f"{where}: {field} must be a date YYYY-MM-DD, not {text!r}") from None


def parse_row(values: dict, where: str) -> SalesRow:
    """One row from text fields (a CSV line or an API message), checked; `where` names it in errors."""
    text = {k: str(values.get(k) or "").strip() for k in COLUMNS}
    if not CODE.match(text["sku"]):
        raise InvalidSales(f"{where}: sku must be a product code, not {text['sku']!r}")
    if text["lot_code"] and not CODE.match(text["lot_code"]):
        raise InvalidSales(f"{where}: lot_code must be a code or empty, not {text['lot_code']!r}")
    if not text["region"] or len(text["region"]) > 64:
        raise InvalidSales(f"{where}: region is required (at most 64 characters)")
    start = _date(text["period_start"], "period_start", where)
    end = _date(text["period_end"], "period_end", where)
    if end < start:
        raise InvalidSales(f"{where}: period_end {end} is before period_start {start}")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidSales(f"{where}: the period is longer than {MAX_PERIOD_DAYS} days")
    if not text["units"].isdigit():
        raise InvalidSales(f"{where}: units must be a whole number of at least 0, not {text['units']!r}")
    return SalesRow(text["sku"], text["lot_code"], text["region"].upper(), start, end, int(text["units"]))


def parse_rows(rows: Iterable[dict], first_line: int = 2) -> list[SalesRow]:
    """Every row, or InvalidSales listing every bad line (one per line of the message)."""
    parsed, errors = [], []
    for number, values in enumerate(rows, start=first_line):
        try:
            parsed.append(parse_row(values, f"line {number}"))
        except InvalidSales as exc:
            errors.append(str(exc))
    if errors:
        raise InvalidSales("\n".join(errors))
    return parsed


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_units(row: SalesRow) -> dict[date, float]:
    """The row's units by the week (its Monday) they fall in, spread evenly over its days."""
    per_day = row.units / row.days
    found: dict[date, float] = defaultdict(float)
    day = row.period_start
    while day <= row.period_end:
        week = monday(day)
        span = min((week + timedelta(days=7) - day).days, (row.period_end - day).days + 1)
        found[week] += per_day * span
        day += timedelta(days=span)
    return found


@dataclass(frozen=True)
class CpmuRow:
    sku: str
    lot_code: str
    region: str
    period: str
    contacts: float
    contacts_counted: int
    units: int
    cpmu: float
    no_sales: bool


def _key(by: str, sku: str, lot: str, region: str, week: date | None) -> tuple:
    return {
        "product": (sku, "", "", ""),
        "lot": (sku, lot, "", ""),
        "region": (sku, "", region, ""),
        "period": (sku, "", "", week.isoformat() if week else ""),
    }[by]


def cpmu(facts: Iterable[ContactFact], sales: Iterable[SalesRow], by: str = "product") -> list[CpmuRow]:
    """Complaints (weighted) per million units by product, lot, region or week; products without sales
    are reported by count and marked no_sales."""
    if by not in ("product", "lot", "region", "period"):
        raise InvalidSales("by must be product, lot, region or period")
    units: dict[tuple, float] = defaultdict(float)
    skus_sold = set()
    for row in sales:
        skus_sold.add(row.sku)
        if by == "lot" and not row.lot_code:
            continue
        if by == "period":
            for week, share in weekly_units(row).items():
                units[_key(by, row.sku, row.lot_code, row.region, week)] += share
        else:
            units[_key(by, row.sku, row.lot_code, row.region, None)] += row.units
    weighted: dict[tuple, float] = defaultdict(float)
    counted: dict[tuple, int] = defaultdict(int)
    for f in facts:
        key = _key(by, f.sku, f.lot_code, f.region, monday(f.received_on))
        weighted[key] += f.weight
        counted[key] += 1
    rows = []
    for key in sorted(set(units) | set(weighted)):
        sold = round(units.get(key, 0.0))
        no_sales = key[0] not in skus_sold
        rate = weighted.get(key, 0.0) * 1e6 / sold if sold else 0.0
        rows.append(
            CpmuRow(*key, weighted.get(key, 0.0), counted.get(key, 0), sold, round(rate, 3), no_sales)
        )
    return rows
