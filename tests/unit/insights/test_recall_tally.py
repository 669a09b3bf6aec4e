"""A recall's tally: the buyers read model from fulfillment's order_placed, and the contacts about it."""

from __future__ import annotations

from services.insights.service import Insights
from tests.unit.insights.fakes import FakeStore
from tests.unit.insights.test_recalls import FIELDS

PLACED = "2026-11-02T10:00:00+00:00"


def order(order_id: str, consumer_id: str, *skus: str, region: str = "north") -> dict:
    return {
        "order_id": order_id,
        "consumer_id": consumer_id,
        "placed_at": PLACED,
        "region": region,
        "lines": [{"sku": sku, "lot_code": ""} for sku in skus],
    }


async def test_buyers_of_the_recalled_product_in_its_regions_count_once_each():
    insights = Insights(FakeStore())
    recall = await insights.open_recall(
        actor="sam", role="supervisor", sku="OAT-500", lot_codes=["L3"], **FIELDS
    )
    assert await insights.take_order("e1", order("o1", "c1", "OAT-500", "TEA-20")) == 2
    assert await insights.take_order("e1", order("o1", "c1", "OAT-500", "TEA-20")) == 0  # delivered twice
    await insights.take_order("e2", order("o2", "c1", "OAT-500"))  # the same consumer again
    await insights.take_order("e3", order("o3", "c2", "OAT-500"))
    await insights.take_order("e4", order("o4", "c3", "OAT-500", region="south"))  # not a recalled region
    await insights.take_order("e5", order("o5", "c4", "TEA-20"))
    tally = await insights.recall_tally(recall.id)
    assert (tally.recall_id, tally.buyers, tally.contacts) == (recall.id, 2, 0)


async def test_an_order_without_a_consumer_or_unreadable_is_dropped_not_raised():
    insights = Insights(FakeStore())
    assert await insights.take_order("e1", order("o1", "", "OAT-500")) == 0
    assert await insights.take_order("e2", {"order_id": "o2", "lines": "nonsense"}) == 0
    assert insights.store.purchases == {}
