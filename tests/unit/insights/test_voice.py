"""The dashboard's queries through the use cases, over an in-memory store: issue 17's scenario, with a few
compliments, charted by week."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.insights.domain import voice
from services.insights.service import Insights, Received
from tests.support import insights_scenario as scenario
from tests.unit.insights.fakes import FakeStore

TODAY = date(2026, 12, 2)
THIS_WEEK = date(2026, 11, 30)


def praise_cases() -> list[dict]:
    """Two product compliments for OAT-500 this week, one for service last week through the web form."""
    return [
        scenario.case("OAT-500", "L1", "compliment.product", TODAY),
        scenario.case("OAT-500", "L2", "compliment.product", TODAY - timedelta(days=1)),
        scenario.case("CRN-1000", "", "compliment.service", TODAY - timedelta(days=7), channel="web"),
    ]


async def loaded() -> tuple[Insights, list[dict]]:
    insights = Insights(FakeStore(), clock=lambda: datetime(2026, 12, 2, 12, tzinfo=UTC))
    rows = list(csv.DictReader(io.StringIO(scenario.sales_csv(TODAY))))
    await insights.import_sales(rows, source="pos.csv", actor="quinn", role="analyst")
    cases = scenario.cases(TODAY) + praise_cases()
    for case in cases:
        await insights.take(
            Received(str(uuid.uuid4()), "contacts", "contact_created", datetime.now(UTC), {"case": case})
        )
    return insights, cases


async def test_volumes_by_product_count_each_week_with_the_busiest_product_first():
    insights, _ = await loaded()
    found = await insights.volumes(by="product", weeks=13)
    assert found.keys == ["CRN-1000", "OAT-500", "TEA-20"]
    assert found.weeks[-1] == THIS_WEEK and len(found.weeks) == 13
    by_point = {(p.week, p.key): p.contacts for p in found.points}
    assert by_point[THIS_WEEK, "CRN-1000"] == 8
    # This week: the cluster of eight, two compliments, and (even weeks) one baseline complaint.
    assert by_point[THIS_WEEK, "OAT-500"] == 8 + 2 + 1
    assert by_point[THIS_WEEK, "TEA-20"] == 3  # volumes count contacts as they came, spam included


async def test_volumes_by_issue_group_at_the_level_asked_and_praise_is_the_compliments_alone():
    insights, _ = await loaded()
    by_issue = await insights.volumes(by="issue", weeks=13, level=2)
    assert set(by_issue.keys) == {"complaint.quality", "compliment.product", "compliment.service"}
    praise = await insights.volumes(by="issue", weeks=13, issue_code="compliment", level=2)
    totals = {k: sum(p.contacts for p in praise.points if p.key == k) for k in praise.keys}
    assert totals == {"compliment.product": 2, "compliment.service": 1}
    by_channel = await insights.volumes(by="channel", weeks=2, issue_code="compliment")
    assert {(p.week, p.key): p.contacts for p in by_channel.points if p.contacts} == {
        (THIS_WEEK, "phone"): 2,
        (THIS_WEEK - timedelta(weeks=1), "web"): 1,
    }


async def test_keys_past_the_limit_are_left_off_and_counted():
    insights, _ = await loaded()
    found = await insights.volumes(by="product", weeks=13, max_keys=1)
    assert found.keys == ["CRN-1000"] and found.keys_left_off == 2


async def test_the_lot_cluster_ranks_first_among_rising_issues_and_the_best_seller_is_not_alarming():
    insights, _ = await loaded()
    found = await insights.rising(limit=10)
    first = found[0]
    assert (first.sku, first.issue_code) == ("OAT-500", scenario.PLASTIC)
    assert first.alarming and first.score >= insights.tuning.glr_threshold
    assert first.observed == scenario.CLUSTER and first.end >= TODAY
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    assert not any(r.alarming for r in found if r.sku in ("CRN-1000", "TEA-20"))


async def test_cpmu_trend_puts_the_cluster_week_above_the_upper_limit_and_the_best_sellers_weeks_within():
    insights, _ = await loaded()
    trends = {t.sku: t for t in await insights.cpmu_trend(weeks=13)}
    assert set(trends) == {"CRN-1000", "OAT-500", "TEA-20"}
    oat = trends["OAT-500"]
    assert not oat.no_sales
    last = oat.points[-1]
    assert last.week == THIS_WEEK and last.above
    assert last.cpmu > last.upper_cpmu > last.expected_cpmu > 0
    assert last.cpmu == pytest.approx(last.observed * 1e6 / last.units, rel=1e-3)
    assert not any(p.above for p in oat.points[:-1])
    assert not any(p.above for p in trends["CRN-1000"].points)
    # The best-seller has more complaints and far fewer per unit: its expected rate is the lower.
    best = trends["CRN-1000"].points
    assert sum(p.observed for p in best) > sum(p.observed for p in oat.points)
    assert best[-1].expected_cpmu < last.expected_cpmu / 5


async def test_a_product_without_sales_data_is_charted_by_count_and_marked_so():
    insights = Insights(FakeStore(), clock=lambda: datetime(2026, 12, 2, 12, tzinfo=UTC))
    for i in range(3):
        case = scenario.case("NEW-1", "", scenario.TASTE, TODAY - timedelta(weeks=i))
        await insights.take(
            Received(str(uuid.uuid4()), "contacts", "contact_created", datetime.now(UTC), {"case": case})
        )
    (trend,) = await insights.cpmu_trend(weeks=4)
    assert trend.sku == "NEW-1" and trend.no_sales
    assert [p.cpmu for p in trend.points] == [1.0, 1.0, 1.0]


async def test_the_contacts_behind_a_point_are_the_ones_it_counts():
    insights, cases = await loaded()
    cluster = {
        c["id"] for c in cases if c["product"]["lot_code"] == "L3" and c["issue_code"] == scenario.PLASTIC
    }
    where = voice.Slice(sku="OAT-500", lot_code="L3", issue_code="complaint.quality.foreign_object",
                        start=THIS_WEEK, end=THIS_WEEK + timedelta(days=6))  # fmt: skip
    found, total = await insights.contacts_in(where)
    assert total == len(cluster) == scenario.CLUSTER
    assert {f.contact_id for f in found} == cluster
    bar = voice.Slice(sku="TEA-20", start=THIS_WEEK, end=THIS_WEEK + timedelta(days=6))
    found, total = await insights.contacts_in(bar, limit=2)
    assert total == 3 and len(found) == 2


async def test_a_volume_bar_opens_onto_the_contacts_it_counted():
    insights, _ = await loaded()
    chart = await insights.volumes(by="channel", weeks=13)
    for point in chart.points:
        # As the dashboard asks for a bar: the bar's key and its week.
        bar = voice.Slice(channel=point.key, start=point.week, end=point.week + timedelta(days=6))
        _, total = await insights.contacts_in(bar)
        assert total == point.contacts, point


@pytest.mark.parametrize(
    "query",
    [
        {"by": "colour"},
        {"by": "issue", "weeks": 0},
        {"by": "issue", "weeks": 1000},
        {"by": "issue", "level": 0},
    ],
)
async def test_a_malformed_query_is_refused_with_its_reason(query):
    insights, _ = await loaded()
    with pytest.raises(voice.InvalidQuery):
        await insights.volumes(**query)


async def test_a_slice_that_ends_before_it_starts_is_refused():
    insights, _ = await loaded()
    with pytest.raises(voice.InvalidQuery, match="ends before"):
        await insights.contacts_in(voice.Slice(start=TODAY, end=TODAY - timedelta(days=1)))
