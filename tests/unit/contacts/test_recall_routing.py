"""Which recall's queue a case goes to, and the recall events casework reads."""

from __future__ import annotations

import pytest

from services.contacts.casework.domain.recalls import cover_of, routed
from services.contacts.casework.exceptions import InvalidInput

RECALL = "0f6c1c2e-7a1b-4c55-9d0e-3f1f2a3b4c5d"
EVERY_LOT = "1a2b3c4d-0000-4000-8000-000000000002"


def opened(recall_id: str = RECALL, lots=("L3", "L4"), sku: str = "OAT-500") -> dict:
    return {"recall_id": recall_id, "sku": sku, "lot_codes": list(lots), "regions": [], "title": "Oats L3"}


def test_a_case_goes_to_the_recalls_naming_its_product_and_lot_or_no_lot():
    covers = [cover_of("recall_opened", opened()), cover_of("recall_opened", opened(EVERY_LOT, lots=()))]
    assert routed(covers, "OAT-500", "L3") == [RECALL, EVERY_LOT]
    assert routed(covers, "OAT-500", "L1") == [EVERY_LOT]
    assert routed(covers, " OAT-500 ", "") == [RECALL, EVERY_LOT]  # the lot is asked for on the call
    assert routed(covers, "TEA-20", "L3") == []
    assert routed(covers, "", "L3") == []


def test_a_closed_recall_takes_no_case():
    assert routed([cover_of("recall_closed", opened())], "OAT-500", "L3") == []


@pytest.mark.parametrize(
    "data",
    [{"sku": "OAT-500"}, {"recall_id": RECALL}, {"recall_id": "nope", "sku": "OAT-500"},
     {"recall_id": RECALL, "sku": "OAT-500", "lot_codes": "L3"}],
)  # fmt: skip
def test_an_event_that_is_not_a_recall_is_refused_by_name(data):
    with pytest.raises(InvalidInput):
        cover_of("recall_opened", data)
