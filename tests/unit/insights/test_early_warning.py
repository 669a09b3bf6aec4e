"""The early warning through the use cases, over an in-memory store: issue 17's scenario and its parts."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

import pytest

from services.insights.domain.alerts import InvalidMove
from services.insights.domain.sales import InvalidSales
from services.insights.service import Insights, NotAllowed, Received
from tests.support import insights_scenario as scenario
from tests.unit.insights.fakes import FakeStore

TODAY = date(2026, 12, 2)


def event(case: dict, kind: str = "contact_created") -> Received:
    return Received(str(uuid.uuid4()), "contacts", kind, datetime(2026, 12, 2, tzinfo=UTC), {"case": case})


async def loaded(cases=None) -> Insights:
    insights = Insights(FakeStore(), clock=lambda: datetime(2026, 12, 2, 12, tzinfo=UTC))
    rows = list(csv.DictReader(io.StringIO(scenario.sales_csv(TODAY))))
    await insights.import_sales(rows, source="pos.csv", actor="quinn", role="analyst")
    for case in scenario.cases(TODAY) if cases is None else cases:
        await insights.take(event(case))
    return insights


async def test_the_cluster_on_one_lot_raises_an_alert_naming_it_and_the_best_seller_none():
    insights = await loaded()
    raised = await insights.recompute()
    lots = {(a.signal.sku, a.signal.lot_code, a.signal.issue_code) for a in raised if a.signal.lot_code}
    assert lots == {("OAT-500", "L3", "complaint.quality.foreign_object.plastic")}
    assert {a.signal.sku for a in raised} == {"OAT-500"}
    lot_alert = next(a for a in raised if a.signal.lot_code == "L3")
    assert lot_alert.signal.method == "lot_poisson_bh"
    assert lot_alert.signal.observed == 8.0
    assert len(lot_alert.signal.contact_ids) == 8
    assert lot_alert.signal.score < 0.05
    assert lot_alert.status == "new"


async def test_three_unverified_web_form_complaints_raise_nothing():
    spam = [c for c in scenario.cases(TODAY) if c["product"]["sku"] == "TEA-20"]
    assert len(spam) == 3
    insights = await loaded(spam)
    assert await insights.recompute() == []


async def test_the_same_event_twice_counts_once_and_a_recompute_raises_nothing_new():
    insights = await loaded([])
    case = scenario.case("OAT-500", "L1", scenario.PLASTIC, TODAY)
    once = event(case)
    assert await insights.take(once) is True
    assert await insights.take(once) is False
    assert len(await insights.store.contacts()) == 1
    full = await loaded()
    assert await full.recompute() != []
    assert await full.recompute() == []


async def test_a_rebuild_from_the_event_log_gives_the_same_read_model():
    insights = await loaded()
    before = sorted(f.contact_id for f in await insights.store.contacts())
    assert await insights.rebuild() == 122
    assert sorted(f.contact_id for f in await insights.store.contacts()) == before


async def test_the_alert_uses_the_received_date_not_the_day_it_was_keyed():
    insights = await loaded()
    raised = await insights.recompute()
    lot_alert = next(a for a in raised if a.signal.lot_code == "L3")
    assert (lot_alert.signal.period_start, lot_alert.signal.period_end) == (
        date(2026, 12, 1),
        date(2026, 12, 2),
    )
    series = [a for a in raised if a.signal.method == "glr_cusum"]
    assert series and all(a.signal.period_end == date(2026, 12, 6) for a in series)


async def test_cpmu_by_product_and_a_product_without_sales_marked():
    no_sales = scenario.case("GUM-1", "", scenario.TASTE, TODAY)
    insights = await loaded([*scenario.cases(TODAY), no_sales])
    rows = {r.sku: r for r in await insights.cpmu("product")}
    assert rows["CRN-1000"].cpmu == 10.4
    assert rows["OAT-500"].cpmu == 150.0
    assert rows["TEA-20"].contacts == 0.75
    assert (rows["GUM-1"].no_sales, rows["GUM-1"].contacts_counted, rows["GUM-1"].cpmu) == (True, 1, 0.0)


async def test_the_lifecycle_records_who_and_why_and_refuses_a_skip():
    insights = await loaded()
    alert = next(a for a in await insights.recompute() if a.signal.lot_code == "L3")
    moved = await insights.move(alert.id, "acknowledged", actor="quinn", role="analyst", reason="seen it")
    moved = await insights.move(alert.id, "investigating", actor="quinn", role="analyst", reason="lab test")
    moved = await insights.move(alert.id, "escalated", actor="lee", role="admin", reason="recall L3")
    assert [(t.status, t.actor, t.reason) for t in moved.history] == [
        ("new", "insights", "lot_poisson_bh"),
        ("acknowledged", "quinn", "seen it"),
        ("investigating", "quinn", "lab test"),
        ("escalated", "lee", "recall L3"),
    ]
    with pytest.raises(InvalidMove, match="an alert that is escalated moves to nothing: it is final"):
        await insights.move(alert.id, "closed", actor="quinn", role="analyst", reason="oops")
    with pytest.raises(NotAllowed):
        await insights.move(alert.id, "closed", actor="sam", role="supervisor", reason="no")


async def test_bad_sales_lines_are_each_named():
    insights = await loaded([])
    rows = [
        {"sku": "OAT-500", "lot_code": "", "region": "IL", "period_start": "2026-11-01",
         "period_end": "2026-11-30", "units": "12"},
        {"sku": "", "lot_code": "", "region": "IL", "period_start": "2026-11-01",
         "period_end": "2026-11-30", "units": "12"},
        {"sku": "OAT-500", "lot_code": "", "region": "IL", "period_start": "2026-11-31",
         "period_end": "2026-11-30", "units": "-4"},
    ]  # fmt: skip
    with pytest.raises(InvalidSales) as refused:
        await insights.import_sales(rows, source="x.csv", actor="quinn", role="analyst")
    assert str(refused.value) == (
        "line 3: sku must be a product code, not ''\n"
        "line 4: period_start must be a date YYYY-MM-DD, not '2026-11-31'"
    )


async def test_a_new_alert_the_figures_no_longer_bear_out_is_closed_saying_why():
    cases = scenario.cases(TODAY)
    insights = await loaded(cases)
    alert = next(a for a in await insights.recompute() if a.signal.lot_code == "L3")
    for case in cases:
        if case["issue_code"] == scenario.PLASTIC and case["product"]["sku"] == "OAT-500":
            await insights.take(
                event({**case, "issue_code": "praise.taste", "version": 2}, "contact_updated")
            )
    assert await insights.recompute() == []
    closed = await insights.alert(alert.id)
    assert closed.status == "closed"
    assert (closed.history[-1].actor, closed.history[-1].reason) == (
        "insights",
        "no longer signalled: later contacts or sales changed the figures",
    )


async def test_a_contact_without_a_region_counts_once_in_its_products_series():
    no_region = scenario.case("OAT-500", "L3", scenario.PLASTIC, TODAY)
    no_region["product"]["purchase_location"] = ""
    located = [c for c in scenario.cases(TODAY) if c["product"]["sku"] == "OAT-500"]
    insights = await loaded([*located, no_region])
    series = [a for a in await insights.recompute() if a.signal.method == "glr_cusum"]
    assert [(a.signal.region, a.signal.observed) for a in series] == [("IL", 9.0)]


async def test_an_event_without_a_usable_case_is_logged_and_read_into_nothing(caplog):
    insights = await loaded([])
    broken = Received(str(uuid.uuid4()), "contacts", "contact_created", datetime(2026, 12, 2, tzinfo=UTC), {})
    assert await insights.take(broken) is True
    assert await insights.store.contacts() == []
    assert f"ignoring contact_created event {broken.event_id}: the case carries no id" in caplog.text


async def test_a_cluster_that_ages_into_the_baseline_keeps_its_alert():
    insights = await loaded()
    raised = await insights.recompute()
    five_weeks_on = Insights(insights.store, clock=lambda: datetime(2027, 1, 6, 12, tzinfo=UTC))
    assert await five_weeks_on.recompute() == []
    assert {a.status for a in await insights.store.alerts()} == {"new"}
    assert len(await insights.store.alerts()) == len(raised)


CONSUMER = "0b6a1f5e-8a4e-4a55-9d1f-6f1f6a9f0c11"
PERSONAL = ("Jo Bloggs", "jo@example.com", "+15555550100", "a sharp blue shard", CONSUMER)


def reported_case() -> dict:
    case = scenario.case("OAT-500", "L1", scenario.PLASTIC, TODAY)
    case["id"] = "c-personal"
    case["consumer_id"] = CONSUMER
    case["reporter"] = {"name": "Jo Bloggs", "email": "jo@example.com", "phone": "+15555550100"}
    case["verbatim"] = "Jo Bloggs here, found a sharp blue shard; call +15555550100"
    case["notes"] = "called back on +15555550100, jo@example.com"
    return case


async def test_neither_the_contact_nor_the_event_log_keeps_anything_of_the_person():
    insights = await loaded([])
    await insights.take(event(reported_case()))
    await insights.take(event({**reported_case(), "version": 2, "status": "resolved"}, "contact_resolved"))
    (fact,) = await insights.store.contacts()
    logged = await insights.store.replay()
    kept = repr(fact) + "".join(repr(e) for e in logged)
    assert [p for p in PERSONAL if p in kept] == []
    assert logged[0].data == {
        "contact_id": "c-personal",
        "version": 1,
        "sku": "OAT-500",
        "lot_code": "L1",
        "region": "IL",
        "issue_code": "complaint.quality.foreign_object.plastic",
        "channel": "phone",
        "received_on": "2026-12-02",
        "consumer_on_file": True,
        # How the case was worked, for the operational reports: staff and coded facts alone.
        "work": {
            "case_id": "c-personal",
            "team": "",
            "agent": "",
            "channel": "phone",
            "issue_code": "complaint.quality.foreign_object.plastic",
            "created_at": logged[0].data["work"]["created_at"],
            "stage": "",
            "escalated": False,
            "calls": 0,
            "first_response_seconds": None,
            "resolution_seconds": None,
            "sla_breach": "",
        },
    }
    assert await insights.rebuild() == 2
    assert await insights.store.contacts() == [fact]
    assert fact.weight == 1.0


async def test_an_event_with_no_readable_case_is_logged_by_its_id_alone():
    insights = await loaded([])
    broken = event({"id": "c-broken", "verbatim": "Jo Bloggs, no date given"})
    assert await insights.take(broken) is True
    assert await insights.take(broken) is False
    assert [e.data for e in await insights.store.replay()] == [{}]
    assert await insights.rebuild() == 0
