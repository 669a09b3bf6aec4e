"""Recalls: a product, its lots and its regions taken off the market, with the answers agents may give.

A recall is opened by quality assurance, from an alert (which it escalates) or by hand, and is open until
closed; closing is final. The scripted answers are approved text an agent reads as written, so they are
stored as given and never rewritten. A recall names its lots; none means every lot of the product.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
REGION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
MAX_LOTS = 500
# Who opens and closes a recall (the recalls.manage permission); escalating the alert comes with it.
LEADS = frozenset({"supervisor", "analyst", "admin"})
MAX_REGIONS = 100


class RecallNotFound(LookupError):
    pass


class InvalidRecall(ValueError):
    pass


@dataclass(frozen=True)
class Recall:
    id: str
    sku: str
    lot_codes: tuple[str, ...]
    regions: tuple[str, ...]
    title: str
    script: tuple[str, ...]  # approved answers, in the order an agent reads them
    consumer_message: str
    opened_by: str
    opened_at: datetime
    alert_id: str = ""
    status: str = "open"
    closed_by: str = ""
    closed_at: datetime | None = None
    close_reason: str = ""

    @property
    def open(self) -> bool:
        return self.status == "open"

    def covers(self, sku: str, lot_code: str = "") -> bool:
        """Whether a product and lot (empty: not known) the consumer mentions or bought is recalled."""
        return self.open and self.names(sku, lot_code)

    def names(self, sku: str, lot_code: str = "") -> bool:
        """Whether the recall is about this product and lot, open or closed (its tally outlives it)."""
        if sku != self.sku:
            return False
        return not self.lot_codes or not lot_code or lot_code in self.lot_codes


def _text(value: str, name: str, most: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > most:
        raise InvalidRecall(f"{name} must be 1 to {most} characters")
    return value


def _codes(values, pattern: re.Pattern, name: str, most: int) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > most:
        raise InvalidRecall(f"at most {most} {name}")
    bad = [v for v in cleaned if not pattern.match(v)]
    if bad:
        raise InvalidRecall(f"{name} not understood: {', '.join(bad[:5])}")
    return cleaned


def open_recall(
    *,
    sku: str,
    lot_codes,
    regions,
    title: str,
    script,
    consumer_message: str,
    opened_by: str,
    now: datetime,
    alert_id: str = "",
) -> Recall:
    sku = (sku or "").strip()
    if not SKU.match(sku):
        raise InvalidRecall("sku must be a product code: letters, digits, . _ -")
    answers = tuple(a.strip() for a in script if a and a.strip())
    if not answers or len(answers) > 20 or any(len(a) > 2000 for a in answers):
        raise InvalidRecall("give 1 to 20 scripted answers of at most 2000 characters each")
    return Recall(
        id=str(uuid.uuid4()),
        sku=sku,
        lot_codes=_codes(lot_codes, LOT, "lot codes", MAX_LOTS),
        regions=_codes(regions, REGION, "regions", MAX_REGIONS),
        title=_text(title, "title", 200),
        script=answers,
        consumer_message=_text(consumer_message, "consumer message", 4000),
        opened_by=opened_by,
        opened_at=now,
        alert_id=alert_id,
    )


def close(recall: Recall, *, actor: str, reason: str, now: datetime) -> Recall:
    if not recall.open:
        raise InvalidRecall("this recall is closed already")
    return replace(
        recall,
        status="closed",
        closed_by=actor,
        closed_at=now,
        close_reason=_text(reason, "the reason for closing", 2000),
    )


def covering(recalls, sku: str, lot_code: str = "") -> list[Recall]:
    return [r for r in recalls if r.covers(sku, lot_code)]
