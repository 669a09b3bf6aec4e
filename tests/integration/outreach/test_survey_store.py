"""The survey and reminder tables on real PostgreSQL: a rule fires once per trigger, a survey sends and is
answered once, the 30-day suppression reads what was sent, and a reminder cycle is claimed once across a
restart (a new pool over the same database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.outreach import reorder, survey_answers
from services.outreach.survey_rules import Trigger, plan, rule_from_input
from tests.support.survey_harness import open_store as opened
from tests.support.survey_harness import outreach_database, published

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url():
    with outreach_database("crs_surveys_store") as url:
        yield url


def resolved(case_id: str, consumer_id: str, at: datetime) -> Trigger:
    return Trigger(
        "contact_resolved", case_id, consumer_id, "complaint.taste", "en", "team-a", "agent-1", "email", at
    )


async def test_a_rule_fires_once_and_a_second_answer_is_not_counted(database_url):
    store = await opened(database_url)
    rule = rule_from_input(
        {
            "id": "csat",
            "kind": "csat",
            "issue_prefix": "complaint",
            "delay_minutes": 2880,
            "suppress_days": 30,
        }
    )
    await store.put_rule(rule, actor="admin")
    (stored,) = await store.rules()
    assert stored == rule
    (planned,) = plan(await store.rules(), resolved("case-1", "con-1", NOW), last_surveyed_at=None)
    assert await store.claim("s-1", planned)
    (again,) = plan(
        await store.rules(), resolved("case-1", "con-1", NOW + timedelta(hours=1)), last_surveyed_at=None
    )
    assert not await store.claim("s-2", again)
    assert await store.mark_sent("s-1", planned.send_at)
    assert not await store.mark_sent("s-1", planned.send_at)

    survey = await store.survey("s-1")
    given = survey_answers.answer(
        survey, {"score": 5}, answer_id="a-1", comment="", now=NOW + timedelta(days=3)
    )
    assert survey_answers.event_data(given)["team"] == "team-a"
    assert await store.record_answer(given, survey_answers.event(given))
    second = survey_answers.answer(
        survey, {"score": 1}, answer_id="a-2", comment="", now=NOW + timedelta(days=3)
    )
    assert not await store.record_answer(second, survey_answers.event(second))
    # only the first answer's event went to the outbox
    assert [data["score"] for _, data in await published(store)] == [5]
    await store.pool.close()


async def test_the_thirty_day_suppression_reads_the_last_survey_sent(database_url):
    store = await opened(database_url)
    rule = rule_from_input({"id": "csat-2", "kind": "csat", "delay_minutes": 0, "suppress_days": 30})
    (first,) = plan(
        [rule], resolved("case-10", "con-10", NOW), last_surveyed_at=await store.last_surveyed_at("con-10")
    )
    assert await store.claim("s-10", first)
    assert await store.mark_sent("s-10", NOW)
    soon = resolved("case-11", "con-10", NOW + timedelta(days=29))
    (held,) = plan([rule], soon, last_surveyed_at=await store.last_surveyed_at("con-10"))
    assert held.last_surveyed_at == NOW
    later = resolved("case-12", "con-10", NOW + timedelta(days=31))
    (sent,) = plan([rule], later, last_surveyed_at=await store.last_surveyed_at("con-10"))
    assert sent.send_at == NOW + timedelta(days=31)
    await store.pool.close()


async def test_a_reminder_cycle_is_claimed_and_sent_once_across_a_restart(database_url):
    store = await opened(database_url)
    for n in range(3):
        await store.add_purchase(f"o-{n}", "SKU-9", "con-20", NOW + timedelta(days=30 * n))
        await store.add_purchase(f"o-{n}", "SKU-9", "con-20", NOW + timedelta(days=30 * n))  # redelivered
    times = await store.order_times("con-20", "SKU-9")
    reminder = reorder.next_reminder("con-20", "SKU-9", times)
    assert reminder.remind_at == NOW + timedelta(days=87)
    assert await store.claim_reminder(reminder)
    assert await store.mark_reminder_sent(reminder.key, reminder.remind_at)
    await store.pool.close()

    restarted = await opened(database_url)
    replanned = reorder.next_reminder("con-20", "SKU-9", await restarted.order_times("con-20", "SKU-9"))
    assert not await restarted.claim_reminder(replanned)
    assert not await restarted.mark_reminder_sent(replanned.key, replanned.remind_at)
    await restarted.pool.close()


async def test_a_rule_fires_once_through_the_sweep_and_suppression_holds_at_send_time(database_url):
    from tests.support.survey_harness import Clock, Outlets, desk_over

    store = await opened(database_url)
    clock, outlets, mailed = Clock(NOW), Outlets(), []
    desk = desk_over(store, clock, outlets)

    async def consents(consumer_id, purpose):
        return purpose == "surveys"

    async def send(survey, links):
        mailed.append((survey.trigger.case_id, sorted(links["scores"])))

    await store.put_rule(
        rule_from_input({"id": "sweep-csat", "kind": "csat", "delay_minutes": 2880, "suppress_days": 30}),
        actor="admin",
    )
    for hours in (0, 1):  # the event redelivered an hour later
        await desk.on_trigger(resolved("case-30", "con-30", NOW + timedelta(hours=hours)))
    await desk.on_trigger(
        resolved("case-31", "con-30", NOW + timedelta(hours=2))
    )  # a second case, same consumer
    clock.now = NOW + timedelta(days=2, hours=3)
    await desk.due(consents=consents, send=send)
    await desk.due(consents=consents, send=send)
    # both cases were planned before any survey went out; the sweep sends the first and holds the second back
    assert [case for case, _ in mailed if case.startswith("case-3")] == ["case-30"]
    assert mailed[0][1] == [1, 2, 3, 4, 5]
    await store.pool.close()
