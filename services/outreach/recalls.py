"""A recall opened in insights becomes a recall-notice campaign to the consumers it affects.

The event `recall_opened` on `insights.events` carries {recall_id, sku, lot_codes[], regions[], title,
opened_by, opened_at, consumer_message}. Affected are those who bought the SKU in the recall's regions
(a purchase whose lot is unknown counts, since it may be of a recalled lot) and those who contacted us
about the SKU or one of its lots. The campaign's key is the recall id, so a redelivered event opens nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EVENT_TYPE = "recall_opened"
SOURCE = "insights"


class InvalidRecall(ValueError):
    pass


@dataclass(frozen=True)
class Recall:
    recall_id: str
    sku: str
    lot_codes: tuple[str, ...]
    regions: tuple[str, ...]
    title: str
    opened_by: str
    opened_at: datetime
    consumer_message: str

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> Recall:
        try:
            recall = cls(
                recall_id=str(data["recall_id"]).strip(),
                sku=str(data["sku"]).strip(),
                lot_codes=tuple(str(x).strip() for x in data.get("lot_codes") or () if str(x).strip()),
                regions=tuple(str(x).strip() for x in data.get("regions") or () if str(x).strip()),
                title=str(data.get("title") or "").strip(),
                opened_by=str(data.get("opened_by") or ""),
                opened_at=datetime.fromisoformat(str(data["opened_at"]).replace("Z", "+00:00")),
                consumer_message=str(data.get("consumer_message") or "").strip(),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRecall(f"not a recall_opened payload: {exc}") from exc
        if not recall.recall_id or not recall.sku:
            raise InvalidRecall("a recall names its recall_id and sku")
        if not recall.consumer_message:
            raise InvalidRecall("a recall carries the message consumers are to read")
        return recall

    def campaign_key(self) -> str:
        return f"recall:{self.recall_id}"

    def subject(self) -> str:
        return f"Safety recall: {self.title or self.sku}"


@dataclass(frozen=True)
class Purchase:
    consumer_id: str
    sku: str
    lot_code: str
    region: str


@dataclass(frozen=True)
class Contact:
    consumer_id: str
    sku: str
    lot_code: str


def affected(recall: Recall, purchases: Iterable[Purchase], contacts: Iterable[Contact]) -> set[str]:
    """The consumers the notice goes to (the store runs the same rule in SQL)."""
    lots, regions = set(recall.lot_codes), set(recall.regions)
    bought = {
        p.consumer_id
        for p in purchases
        if p.sku == recall.sku
        and (not regions or p.region in regions)
        and (not lots or not p.lot_code or p.lot_code in lots)
    }
    asked = {
        c.consumer_id
        for c in contacts
        if c.consumer_id and (c.sku == recall.sku or (lots and c.lot_code in lots))
    }
    return bought | asked
