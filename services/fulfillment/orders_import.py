"""Orders imported as CSV from a shop's till or a marketplace: one order line a row, rows of one order
sharing its id. Sell-through (restock.py) counts them like any order sold at a location.

A bad row is rejected with its line number and why; the other orders are kept. A bad row rejects its
whole order (its other rows are reported too), since an order kept without one of its lines would be
"already imported" when the corrected file comes, and the line would never arrive. Plain Python: no SQL,
no protobuf.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

NAMESPACE = uuid.UUID("0c6f7a52-2b1d-4f0e-9a51-7d3e8c2b4a10")
REQUIRED = ("order_id", "placed_at", "consumer_id", "sku", "quantity", "location_id")
OPTIONAL = ("channel", "status", "currency", "unit_price_minor")
CHANNELS = ("web", "phone", "retail", "marketplace")
MAX_QUANTITY = 1_000_000
MAX_ROWS = 200_000


class BadFile(ValueError):
    """The file as a whole cannot be read (no header, a missing column, too many rows)."""


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass(frozen=True)
class Line:
    line: int  # in the file
    sku: str
    quantity: int
    unit_price_minor: int


@dataclass
class ImportedOrder:
    source_order_id: str
    placed_at: datetime
    consumer_id: str | None
    location_id: str | None
    channel: str
    status: str
    currency: str
    lines: list[Line] = field(default_factory=list)

    @property
    def id(self) -> str:
        """Derived from the source's id, so the same order imported twice is the same row."""
        return str(uuid.uuid5(NAMESPACE, self.source_order_id))

    @property
    def total_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines)

    @property
    def header(self) -> tuple:
        return (self.placed_at, self.consumer_id, self.location_id, self.channel, self.currency)


@dataclass(frozen=True)
class Parsed:
    orders: list[ImportedOrder]
    rejected: list[Rejection]


def _when(raw: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"placed_at: {raw[:40]!r} is not an ISO 8601 date and time") from None
    # A till's export without an offset is taken as UTC.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _whole(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}: {raw[:20]!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name}: from {low} to {high}")
    return value


def _consumer(raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError(f"consumer_id: {raw[:40]!r} is not a consumer id (a UUID) or empty") from None


def _row(row: dict, line: int, now: datetime) -> tuple[ImportedOrder, Line]:
    order_id = (row.get("order_id") or "").strip()
    if not order_id or len(order_id) > 100:
        raise ValueError("order_id: required, at most 100 characters")
    placed_at = _when(row.get("placed_at") or "")
    if placed_at > now:
        raise ValueError("placed_at: in the future")
    sku = (row.get("sku") or "").strip()
    if not sku or len(sku) > 64:
        raise ValueError("sku: required, at most 64 characters")
    location = (row.get("location_id") or "").strip() or None
    channel = (row.get("channel") or "").strip() or ("retail" if location else "web")
    if channel not in CHANNELS:
        raise ValueError(f"channel: one of {', '.join(CHANNELS)}")
    currency = (row.get("currency") or "USD").strip().upper()
    if not (len(currency) == 3 and currency.isalpha()):
        raise ValueError("currency: a three-letter code")
    status = (row.get("status") or "delivered").strip()
    if len(status) > 30:
        raise ValueError("status: at most 30 characters")
    order = ImportedOrder(
        order_id, placed_at, _consumer(row.get("consumer_id") or ""), location, channel, status, currency
    )
    price = _whole(row.get("unit_price_minor") or "0", "unit_price_minor", 0, 10**9)
    return order, Line(line, sku, _whole(row.get("quantity") or "", "quantity", 1, MAX_QUANTITY), price)


def parse(text: str, now: datetime) -> Parsed:
    """The orders a file holds, and the rows rejected with why."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        raise BadFile(f"the header lacks {', '.join(missing)} (it needs {', '.join(REQUIRED)})")
    orders: dict[str, ImportedOrder] = {}
    rejected: dict[str, list[Rejection]] = {}
    lines_of: dict[str, list[int]] = {}
    loose: list[Rejection] = []
    for n, row in enumerate(reader):
        if n >= MAX_ROWS:
            raise BadFile(f"more than {MAX_ROWS} rows: split the file")
        line = reader.line_num
        order_id = (row.get("order_id") or "").strip()
        try:
            order, order_line = _row(row, line, now)
        except ValueError as exc:
            if order_id:
                rejected.setdefault(order_id, []).append(Rejection(line, str(exc)))
                lines_of.setdefault(order_id, []).append(line)
            else:
                loose.append(Rejection(line, str(exc)))
            continue
        lines_of.setdefault(order_id, []).append(line)
        known = orders.setdefault(order_id, order)
        if known.header != order.header:
            rejected.setdefault(order_id, []).append(
                Rejection(
                    line,
                    f"order {order_id}: its date, consumer, location, channel or currency differ "
                    f"from line {known.lines[0].line if known.lines else line}",
                )
            )
        known.lines.append(order_line)
    return _settle(orders, rejected, lines_of, loose)


def reject_unknown(parsed: Parsed, known_skus: set[str], known_locations: set[str]) -> Parsed:
    """Orders naming a product or location we do not have are rejected whole, by line."""
    rejected: dict[str, list[Rejection]] = {}
    for order in parsed.orders:
        if order.location_id and order.location_id not in known_locations:
            rejected.setdefault(order.source_order_id, []).append(
                Rejection(order.lines[0].line, f"location_id: no location {order.location_id!r}")
            )
        for line in order.lines:
            if line.sku not in known_skus:
                rejected.setdefault(order.source_order_id, []).append(
                    Rejection(line.line, f"sku: no product {line.sku!r}")
                )
    lines_of = {o.source_order_id: [ln.line for ln in o.lines] for o in parsed.orders}
    settled = _settle({o.source_order_id: o for o in parsed.orders}, rejected, lines_of, [])
    return Parsed(settled.orders, sorted(parsed.rejected + settled.rejected, key=lambda r: r.line))


def _settle(orders, rejected, lines_of, loose) -> Parsed:
    out = list(loose)
    for order_id, reasons in rejected.items():
        out += reasons
        bad = {r.line for r in reasons}
        out += [
            Rejection(line, f"order {order_id} has a rejected line ({min(bad)})")
            for line in lines_of.get(order_id, [])
            if line not in bad
        ]
    kept = [order for order_id, order in orders.items() if order_id not in rejected]
    return Parsed(kept, sorted(out, key=lambda r: r.line))
