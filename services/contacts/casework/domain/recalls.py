"""Recall queues: the recalls insights opens, as casework hears of them, and which cases go to whose queue.

A recall covers a product and its lots (none named: every lot). A case names its product by sku and, when
the consumer read it off the pack, its lot: a case about the product with no lot yet is routed to the
recall too, since the agent will ask for the lot, and one with a lot the recall does not name is not.
Regions do not narrow the queue: where the consumer bought the pack is often not known when they call.
A closed recall takes no more cases; the ones it holds stay, so its queue is the record of its contacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.contacts.casework.exceptions import InvalidInput

_ID = re.compile(r"^[0-9a-fA-F-]{36}$")


@dataclass(frozen=True)
class RecallCover:
    recall_id: str
    sku: str
    lot_codes: tuple[str, ...]
    title: str
    open: bool

    def covers(self, sku: str, lot_code: str) -> bool:
        if not self.open or not sku or sku != self.sku:
            return False
        return not self.lot_codes or not lot_code or lot_code in self.lot_codes


def cover_of(event_type: str, data: dict) -> RecallCover:
    """recall_opened or recall_closed's data as a cover; raises InvalidInput on what is not one."""
    recall_id = str(data.get("recall_id") or "")
    sku = str(data.get("sku") or "").strip()
    if not _ID.match(recall_id) or not sku:
        raise InvalidInput("the recall event names no recall id or no sku")
    lots = data.get("lot_codes") or []
    if not isinstance(lots, list):
        raise InvalidInput("lot_codes: a list")
    return RecallCover(
        recall_id=recall_id,
        sku=sku,
        lot_codes=tuple(str(lot).strip() for lot in lots if str(lot).strip()),
        title=str(data.get("title") or "")[:200],
        open=event_type == "recall_opened",
    )


def routed(covers, sku: str, lot_code: str) -> list[str]:
    """The recalls whose queues a case about this product and lot belongs in."""
    return [c.recall_id for c in covers if c.covers(sku.strip(), lot_code.strip())]
