"""The operational reports' arithmetic through the use cases over an in-memory store, on the hand-worked
floor of tests/support/reports_scenario.py: casework's case events and outreach's survey answers taken as
the bus delivers them, the reports read back by team, agent, channel and issue, and over a period."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.insights.domain import reports
from services.insights.domain.reports import ALL, InvalidReport, percentile
from services.insights.service import Insights, Received
from tests.support import reports_scenario as floor
from tests.unit.insights.fakes import FakeStore

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def event(source: str, kind: str, data: dict) -> Received:
    return Received(str(uuid.uuid4()), source, kind, NOW, data)


async def loaded() -> tuple[Insights, list[dict]]:
    insights = Insights(FakeStore(), clock=lambda: NOW)
    cases = floor.cases(NOW)
    for case in cases:
        assert await insights.take(event("contacts", "contact_created", {"case": case}))
    for answer in floor.answers(NOW, cases):
        assert await insights.take(event("outreach", "survey_answered", answer))
    return insights, cases


def table(report: reports.Report) -> dict[str, dict]:
    return {r.key: dict(zip(report.columns, r.values, strict=True)) for r in report.rows}


def test_percentiles_interpolate_between_ranks():
    assert percentile([40, 10, 30, 20], 0.5) == 25
    assert percentile([10, 20, 30, 40], 0.9) == pytest.approx(37)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


async def test_response_and_resolution_times_by_team():
    insights, _ = await loaded()
    found = table(await insights.report("response-times", by="team"))
    assert found["A"] == {
        "cases": 3, "answered": 3, "first_response_median_h": 2.0, "first_response_p90_h": 2.8,
        "resolved": 2, "resolution_median_h": 3.0, "resolution_p90_h": 3.8,
    }  # fmt: skip
    assert found["B"]["answered"] == 1 and found["B"]["first_response_median_h"] == 0.5
    everything = found[ALL]
    assert (everything["first_response_median_h"], everything["first_response_p90_h"]) == (1.5, 2.7)
    assert (everything["resolution_median_h"], everything["resolution_p90_h"]) == (2.0, 3.6)
    assert list(found) == ["A", "B", ALL]


async def test_a_group_with_nothing_resolved_has_no_figure_rather_than_zero():
    insights, _ = await loaded()
    found = table(await insights.report("response-times", by="issue"))
    assert found["complaint.taste"]["first_response_median_h"] is None
    assert found["complaint.taste"]["resolved"] == 0


async def test_sla_breaches_and_first_contact_resolution():
    insights, _ = await loaded()
    sla = table(await insights.report("sla-breaches", by="agent"))
    assert sla["ada"] == {"cases": 3, "first_response_breaches": 1, "resolution_breaches": 1,
                          "breach_rate_pct": 66.7}  # fmt: skip
    assert sla[ALL]["breach_rate_pct"] == 40.0
    fcr = table(await insights.report("first-contact-resolution", by="team"))
    assert fcr["A"] == {"resolved": 2, "first_contact": 0, "fcr_pct": 0.0}
    assert fcr["B"] == {"resolved": 1, "first_contact": 1, "fcr_pct": 100.0}
    assert fcr[ALL]["fcr_pct"] == 33.3


async def test_the_backlog_counts_open_cases_by_age_whatever_the_period():
    insights, _ = await loaded()
    found = table(await insights.report("backlog", by="channel", since=date(2026, 12, 2)))
    assert found[ALL]["open"] == 2 and found[ALL]["under_1d"] == 1 and found[ALL]["3_to_7d"] == 1
    assert found[ALL]["oldest_days"] == 5.0
    assert found["phone"]["open"] == 2 and "email" not in found


async def test_csat_and_nps_by_agent_and_by_the_cases_issue():
    insights, _ = await loaded()
    csat = table(await insights.report("csat", by="agent"))
    assert csat["ada"] == {"answers": 4, "satisfied": 2, "csat_pct": 50.0, "mean_score": 3.25}
    nps = table(await insights.report("nps", by="agent"))
    assert nps["ada"] == {"answers": 5, "promoters": 2, "passives": 1, "detractors": 2, "nps": 0.0}
    assert nps["bob"]["nps"] == 100.0 and nps[ALL]["nps"] == 16.7
    by_issue = table(await insights.report("nps", by="issue"))
    assert set(by_issue) == {"complaint.quality", "compliment.product", ALL}


async def test_the_period_picks_cases_by_creation_and_answers_by_answer():
    insights, _ = await loaded()
    recent = table(await insights.report("response-times", since=date(2026, 11, 30)))
    assert recent[ALL]["cases"] == 2
    none = table(await insights.report("csat", until=date(2026, 11, 30)))
    assert none[ALL] == {"answers": 0, "satisfied": 0, "csat_pct": None, "mean_score": None}


async def test_an_event_twice_counts_once_and_a_later_version_replaces_the_case():
    insights, cases = await loaded()
    answer = floor.answer(cases[3], "csat", 5, NOW)
    taken = event("outreach", "survey_answered", answer)
    assert await insights.take(taken)
    assert not await insights.take(taken)
    assert table(await insights.report("csat"))[ALL]["answers"] == 5
    reopened = {**cases[0], "version": 2, "stage": "in_progress", "status": "in_progress"}
    reopened.pop("resolved_at")
    await insights.take(event("contacts", "contact_updated", {"case": reopened}))
    await insights.take(event("contacts", "contact_created", {"case": cases[0]}))  # the old one, late
    assert table(await insights.report("backlog"))[ALL]["open"] == 3


async def test_a_rebuild_from_the_log_gives_the_same_reports_and_the_log_holds_no_consumer():
    insights, _ = await loaded()
    before = [await insights.report(name, by="team") for name in reports.REPORTS]
    await insights.rebuild()
    assert [await insights.report(name, by="team") for name in reports.REPORTS] == before
    logged = repr([e.data for e in insights.store.events])
    assert "consumer_id" not in logged and "Pat Consumer" not in logged and "own words" not in logged


async def test_a_poll_or_an_off_scale_answer_is_logged_and_counts_nowhere():
    insights, cases = await loaded()
    poll = {**floor.answer(cases[0], "csat", 5, NOW), "kind": "poll"}
    wild = floor.answer(cases[0], "csat", 9, NOW)
    assert await insights.take(event("outreach", "survey_answered", poll))
    assert await insights.take(event("outreach", "survey_answered", wild))
    assert table(await insights.report("csat"))[ALL]["answers"] == 4


async def test_an_unknown_report_or_grouping_is_refused_by_name():
    insights, _ = await loaded()
    with pytest.raises(InvalidReport, match="report: one of response-times"):
        await insights.report("speed")
    with pytest.raises(InvalidReport, match="by: one of team"):
        await insights.report("csat", by="consumer")
    with pytest.raises(InvalidReport, match="since"):
        await insights.report("csat", since=date(2026, 12, 2), until=date(2026, 12, 1))
