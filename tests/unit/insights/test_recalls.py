"""Recall mode's use cases: opening from an alert or by hand, the event, finding and closing."""

from __future__ import annotations

import pytest

from services.insights.domain.recalls import InvalidRecall, RecallNotFound
from services.insights.service import NotAllowed
from tests.support import insights_scenario as scenario
from tests.unit.insights.test_early_warning import TODAY, loaded

SCRIPT = ["Please stop using the product.", "We will refund you in full."]
FIELDS = {
    "regions": ["north"],
    "title": "Oat flakes lot L3: plastic pieces",
    "script": SCRIPT,
    "consumer_message": "Do not eat oat flakes from lot L3; we will refund you.",
}


async def test_a_recall_from_an_alert_escalates_it_and_takes_its_product_and_lot():
    insights = await loaded()
    alert = next(a for a in await insights.recompute() if a.signal.lot_code == "L3")
    recall = await insights.open_recall(
        actor="sam", role="analyst", alert_id=alert.id, reason="lab found plastic", **FIELDS
    )
    assert (recall.sku, recall.lot_codes, recall.alert_id) == ("OAT-500", ("L3",), alert.id)
    moved = await insights.alert(alert.id)
    assert moved.status == "escalated"
    assert [(t.status, t.actor) for t in moved.history][-2:] == [
        ("acknowledged", "sam"),
        ("escalated", "sam"),
    ]
    assert moved.history[-1].reason == "lab found plastic"


async def test_opening_publishes_recall_opened_with_exactly_the_outreach_fields():
    insights = await loaded()
    recall = await insights.open_recall(actor="sam", role="analyst", sku="OAT-500", lot_codes=[], **FIELDS)
    (event,) = insights.store.events_out
    assert event.type == "recall_opened"
    assert event.data == {
        "recall_id": recall.id,
        "sku": "OAT-500",
        "lot_codes": [],
        "regions": ["north"],
        "title": FIELDS["title"],
        "opened_by": "sam",
        "opened_at": "2026-12-02T12:00:00Z",
        "consumer_message": FIELDS["consumer_message"],
    }


async def test_find_covers_the_recalled_lots_only_and_a_closed_recall_covers_nothing():
    insights = await loaded()
    recall = await insights.open_recall(
        actor="sam", role="analyst", sku="OAT-500", lot_codes=["L3", "L4"], **FIELDS
    )
    assert [r.id for r in await insights.find_recalls([("OAT-500", "L3")])] == [recall.id]
    assert [r.id for r in await insights.find_recalls([("OAT-500", "")])] == [recall.id]
    assert await insights.find_recalls([("OAT-500", "L1"), ("TEA-20", "L3")]) == []
    about = [
        c for c in scenario.cases(TODAY)
        if c["product"]["sku"] == "OAT-500" and c["product"].get("lot_code") in ("L3", "L4")
    ]  # fmt: skip
    assert len(about) >= 8  # the planted cluster on L3, and whatever the baseline put on L4
    assert await insights.recall_contacts(recall) == len(about)
    closed = await insights.close_recall(recall.id, actor="sam", role="analyst", reason="stock cleared")
    assert (closed.status, closed.closed_by, closed.close_reason) == ("closed", "sam", "stock cleared")
    assert await insights.find_recalls([("OAT-500", "L3")]) == []
    assert [e.type for e in insights.store.events_out] == ["recall_opened", "recall_closed"]
    with pytest.raises(InvalidRecall, match="closed already"):
        await insights.close_recall(recall.id, actor="sam", role="analyst", reason="again")


async def test_only_quality_assurance_opens_and_bad_fields_are_named():
    insights = await loaded()
    with pytest.raises(NotAllowed):
        await insights.open_recall(actor="ada", role="agent", sku="OAT-500", lot_codes=[], **FIELDS)
    with pytest.raises(InvalidRecall, match="scripted answers"):
        await insights.open_recall(
            actor="sam", role="analyst", sku="OAT-500", lot_codes=[], **{**FIELDS, "script": [" "]}
        )
    with pytest.raises(InvalidRecall, match="lot codes not understood: bad lot!"):
        await insights.open_recall(
            actor="sam", role="analyst", sku="OAT-500", lot_codes=["bad lot!"], **FIELDS
        )
    with pytest.raises(RecallNotFound):
        await insights.recall("00000000-0000-0000-0000-000000000000")
