"""Restock prompts' rules, through a fake store: when cover is short or misses climb a prompt is raised
once, refreshed while it holds, and cleared when it stops holding; and the periodic run with a clock."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment import restock, restock_api, where_to_buy
from services.fulfillment.replies import InvalidRequest
from services.fulfillment.restock import Decisions, Figures, Policy, Prompt

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(cover_days=7, window_days=14, baseline_windows=4, miss_factor=2, min_misses=3)


def figures(units_sold=0, available=100, misses=0, baseline_misses=0, sku="FD-OAT-500", region="West"):
    return Figures(sku, "US", region, units_sold, available, misses, baseline_misses)


class FakeStore:
    """Holds the figures a test sets and the prompts the evaluations wrote, with the events they sent."""

    def __init__(self, policy: Policy = POLICY):
        self.current_policy = policy
        self.measured: list[Figures] = []
        self.prompts: dict[str, Prompt] = {}
        self.events: list[tuple[str, str]] = []

    async def policy(self) -> Policy:
        return self.current_policy

    async def figures(self, now, policy):
        return list(self.measured)

    async def open_prompts(self):
        return [p for p in self.prompts.values() if p.cleared_at is None]

    async def apply(self, decisions: Decisions) -> Decisions:
        for p in decisions.raised:
            self.prompts[p.id] = p
            self.events.append(("restock_prompt_raised", p.sku))
        for p in decisions.refreshed:
            self.prompts[p.id] = p
        for p in decisions.cleared:
            self.prompts[p.id] = p
            self.events.append(("restock_prompt_cleared", p.sku))
        return decisions


def evaluate(store: FakeStore, now=T0) -> Decisions:
    return asyncio.run(restock.evaluate(store, now))


def test_steady_sales_with_stock_for_weeks_raise_nothing():
    # 28 units in 14 days is 2 a day; 100 available is 50 days of cover.
    assert restock.reasons(figures(units_sold=28, available=100), POLICY) == ()
    assert restock.reasons(figures(units_sold=0, available=0), POLICY) == ()


def test_sales_pushed_up_until_cover_is_under_the_threshold_raise_low_cover():
    # 280 units in 14 days is 20 a day; 100 available lasts 5 days, under 7.
    assert restock.reasons(figures(units_sold=280, available=100), POLICY) == (restock.LOW_COVER,)
    # Exactly at the threshold is not under it: 14 days of sales of 200 leave 100 for 7 days.
    assert restock.reasons(figures(units_sold=200, available=100), POLICY) == ()


def test_misses_raise_a_prompt_only_above_their_usual_level_and_the_minimum():
    # Usually 2 a window (8 over the 4 before): 4 is not above twice that, 5 is.
    assert restock.reasons(figures(misses=4, baseline_misses=8), POLICY) == ()
    assert restock.reasons(figures(misses=5, baseline_misses=8), POLICY) == (restock.MISSES_CLIMBING,)
    # From nothing, two misses are not yet a climb; three are.
    assert restock.reasons(figures(misses=2), POLICY) == ()
    assert restock.reasons(figures(misses=3), POLICY) == (restock.MISSES_CLIMBING,)


def test_a_prompt_is_raised_once_while_it_holds_with_its_figures_refreshed_then_cleared():
    store = FakeStore()
    store.measured = [figures(units_sold=280, available=100)]
    first = evaluate(store)
    assert [p.key for p in first.raised] == [("FD-OAT-500", "US", "West")]
    [prompt] = first.raised
    assert (prompt.velocity_per_day, prompt.days_of_cover, prompt.window_days) == (20.0, 5.0, 14)

    store.measured = [figures(units_sold=280, available=60)]
    later = evaluate(store, T0 + timedelta(hours=1))
    assert later.raised == [] and [p.id for p in later.refreshed] == [prompt.id]
    assert store.prompts[prompt.id].days_of_cover == 3.0
    assert store.prompts[prompt.id].raised_at == T0

    store.measured = [figures(units_sold=280, available=500)]  # restocked
    cleared = evaluate(store, T0 + timedelta(hours=2))
    assert [p.id for p in cleared.cleared] == [prompt.id]
    gone = store.prompts[prompt.id]
    assert (gone.cleared_at, gone.reasons, gone.available) == (T0 + timedelta(hours=2), (), 500)
    assert store.events == [("restock_prompt_raised", "FD-OAT-500"), ("restock_prompt_cleared", "FD-OAT-500")]


def test_a_prompt_whose_product_no_longer_appears_in_the_figures_is_cleared():
    store = FakeStore()
    store.measured = [figures(misses=6)]
    evaluate(store)
    store.measured = []
    assert len(evaluate(store).cleared) == 1


def test_each_region_is_judged_on_its_own():
    store = FakeStore()
    store.measured = [figures(units_sold=280, available=100, region="West"), figures(units_sold=28)]
    store.measured[1] = replace(store.measured[1], region="Northeast")
    assert [p.region for p in evaluate(store).raised] == ["West"]


def test_the_policy_is_checked():
    assert restock.validate_policy(POLICY) == POLICY
    for bad in ({"cover_days": 0}, {"window_days": 400}, {"miss_factor": 0.5}, {"min_misses": 0}):
        with pytest.raises(InvalidRequest):
            restock.validate_policy(replace(POLICY, **bad))


def test_a_lookup_is_a_miss_when_no_stocked_store_is_near():
    assert restock.is_miss(None) and restock.is_miss(restock.NEAR_KM + 0.1)
    assert not restock.is_miss(restock.NEAR_KM)
    assert restock.is_cant_find("question.where_to_buy.cant_find")
    assert not restock.is_cant_find("question.where_to_buy_other")


def test_the_periodic_run_evaluates_at_the_clocks_time_and_survives_a_failing_round():
    store = FakeStore()
    store.measured = [figures(units_sold=280, available=100)]
    ticks = itertools.count()
    failing = {1}

    async def main():
        stop = asyncio.Event()
        original = store.figures

        async def figures_or_fail(now, policy):
            if next(ticks) in failing:
                raise RuntimeError("the database went away")
            if len(store.events) and now >= T0 + timedelta(minutes=2):
                stop.set()
            return await original(now, policy)

        store.figures = figures_or_fail
        minutes = (T0 + timedelta(minutes=n) for n in itertools.count())
        await asyncio.wait_for(restock.run(store, 0.001, stop, clock=lambda: next(minutes)), timeout=5)

    asyncio.run(main())
    [prompt] = store.prompts.values()
    assert prompt.raised_at == T0
    assert prompt.evaluated_at == T0 + timedelta(minutes=2)  # the round at minute 1 failed and was skipped
    assert store.events == [("restock_prompt_raised", "FD-OAT-500")]


def test_a_case_is_a_cant_find_it_miss_only_with_the_code_a_product_and_a_consumer():
    case = dict(case_id="c1", consumer_id="p1", sku="FD-OAT-500", issue_code="question.where_to_buy", at=T0)
    assert restock.cant_find(**case, cant_find_issue="question.where_to_buy") == restock.CantFind(
        "c1", "p1", "FD-OAT-500", T0
    )
    for missing in ({"sku": ""}, {"consumer_id": ""}, {"issue_code": "complaint.quality"}):
        assert restock.cant_find(**{**case, **missing}, cant_find_issue="question.where_to_buy") is None
    # The code is a setting: a company may code it more narrowly.
    assert restock.cant_find(**case, cant_find_issue="question.where_to_buy.cant_find") is None


def prompt(sku: str, units_sold: int, available: int, misses: int = 0) -> Prompt:
    return Prompt(
        sku, sku, "US", "West", (restock.LOW_COVER,), units_sold, available, misses, 0.0, 14, 7, T0, T0
    )


def test_the_planners_list_puts_the_shortest_cover_first_and_the_unsold_last_by_misses():
    listed = restock_api.ranked(
        [prompt("slow", 14, 60), prompt("quiet", 0, 5, misses=3), prompt("fast", 140, 50),
         prompt("missed", 0, 5, misses=9)]
    )  # fmt: skip
    assert [p.sku for p in listed] == ["fast", "slow", "missed", "quiet"]
    assert [p.days_of_cover for p in listed] == [5.0, 60.0, None, None]


class MissLog:
    def __init__(self, fails: bool = False):
        self.fails = fails
        self.recorded: list[tuple[str, str]] = []

    async def record_miss(self, *, sku, country, latitude, longitude, at):
        if self.fails:
            raise ConnectionError("the database went away")
        self.recorded.append((sku, country))


def answer(*distances: float) -> where_to_buy.Answer:
    query = where_to_buy.Query("FD-OAT-500", "US", "10001", 5)
    return where_to_buy.Answer(query, 40.75, -74.0, [where_to_buy.Nearby((), 3, km) for km in distances])


def test_a_lookup_without_a_stocked_store_near_is_counted_and_a_failed_count_does_not_fail_it():
    api = restock_api.RestockApi()
    api.restock_store = MissLog()
    for found in (answer(2.5, 40.0), answer(30.0), answer()):
        asyncio.run(api.count_where_to_buy(found))
    assert api.restock_store.recorded == [("FD-OAT-500", "US")] * 2
    api.restock_store = MissLog(fails=True)
    asyncio.run(api.count_where_to_buy(answer()))  # logged, not raised: the consumer still gets the answer
    assert api.restock_store.recorded == []
