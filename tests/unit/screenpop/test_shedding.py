"""Shedding by the ring's deadline, with fake sources and an injected clock.

The clock stands for the wall clock the INVITE's time is read on; a fake source that "takes" some time
moves it on, so a slow source costs no real time. Only a source that never answers waits out its
(real) deadline, which is then the few tenths of a second left of the budget.
"""

from __future__ import annotations

import asyncio

import pytest

from services.screenpop.compose import (
    CUT_AT_RING_DEADLINE,
    LATE,
    NO_TIME_TO_ENRICH,
    NO_TIME_TO_MATCH,
    NOT_LOOKED_UP,
    Budget,
    Deadlines,
    compose_pop,
)
from tests.unit.screenpop.test_compose import ACCOUNT, ADA, BOB, HISTORY, RINGING

RANG_AT = 1_700_000_000.0
BUDGET = Budget(ring=1.0, least=0.05)
# Long own deadlines, so whatever is cut is cut by the ring's budget.
LONG = Deadlines(match=5.0, source=5.0)
RECALL = {"id": "r-1", "sku": "SKU-1", "title": "Oat crunch lot 42", "lot_codes": ["42"], "script": ["Ask"]}


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class TimedSources:
    """Answers from memory after `takes[source]` seconds of the fake clock; a source in `never` hangs."""

    def __init__(self, clock: Clock, candidates, *, takes=None, never=()):
        self.clock = clock
        self.candidates = candidates
        self.takes = takes or {}
        self.never = set(never)
        self.deadlines: dict[str, float] = {}

    async def _answer(self, source, deadline, value):
        self.deadlines[source] = deadline
        if source in self.never:
            await asyncio.Event().wait()
        self.clock.now += self.takes.get(source, 0.0)
        return value

    async def match_caller(self, *, number, region, withheld, recent_contacts, deadline):
        return await self._answer(
            "contacts", deadline, {"number_e164": number, "candidates": self.candidates}
        )

    async def account_summary(self, *, consumer_id, deadline):
        return await self._answer("billing", deadline, ACCOUNT)

    async def purchase_history(self, *, consumer_id, deadline):
        return await self._answer("fulfillment", deadline, HISTORY)

    async def find_recalls(self, *, skus, deadline):
        return await self._answer("insights", deadline, [RECALL])


async def compose(sources: TimedSources, clock: Clock, deadlines: Deadlines = LONG):
    return await compose_pop(
        ringing=RINGING,
        sources=sources,
        deadlines=deadlines,
        region="US",
        budget=BUDGET,
        rang_at=RANG_AT,
        clock=clock,
    )


async def test_with_time_to_spare_the_pop_is_full_and_each_source_gets_its_own_deadline():
    clock = Clock(RANG_AT + 0.01)
    sources = TimedSources(clock, [ADA], takes={"contacts": 0.02, "billing": 0.02})
    pop = await compose(sources, clock, Deadlines(match=0.3, source=0.25))
    assert pop["degraded"] is None and pop["partial"] == []
    assert pop["balance"]["display"] == "USD 123.45" and pop["recalls"][0]["recall_id"] == "r-1"
    assert sources.deadlines == {"contacts": 0.3, "billing": 0.25, "fulfillment": 0.25, "insights": 0.25}


async def test_a_ringing_dequeued_after_its_budget_pops_bare_at_once_asking_nobody():
    clock = Clock(RANG_AT + 3.0)
    sources = TimedSources(clock, [ADA])
    pop = await compose(sources, clock)
    assert pop["degraded"] == LATE
    assert sources.deadlines == {}, "no source is waited on"
    assert pop["caller"]["number"] == "+16145550123"
    assert pop["route"] == "new_consumer" and pop["matches"] == [] and pop["consumer"] is None
    assert pop["partial"] == ["contacts"]
    assert pop["explanation"] == NOT_LOOKED_UP


async def test_too_little_left_to_wait_for_contacts_pops_bare():
    clock = Clock(RANG_AT + 0.97)
    sources = TimedSources(clock, [ADA])
    pop = await compose(sources, clock)
    assert pop["degraded"] == NO_TIME_TO_MATCH
    assert sources.deadlines == {}
    assert pop["route"] == "new_consumer" and pop["partial"] == ["contacts"]


async def test_a_match_that_used_up_the_budget_pops_caller_id_only_without_balance_or_purchases():
    clock = Clock(RANG_AT + 0.1)
    sources = TimedSources(clock, [ADA], takes={"contacts": 0.88})
    pop = await compose(sources, clock)
    assert pop["degraded"] == NO_TIME_TO_ENRICH
    assert list(sources.deadlines) == ["contacts"], "billing and fulfillment were not asked"
    assert pop["route"] == "consumer" and pop["consumer"]["name"] == "Ada Lovelace"
    assert pop["balance"] is None and pop["purchases"] == []
    assert pop["partial"] == ["billing", "fulfillment"]


async def test_several_matches_without_time_for_enrichment_still_offer_the_picker():
    clock = Clock(RANG_AT)
    sources = TimedSources(clock, [ADA, BOB], takes={"contacts": 0.99})
    pop = await compose(sources, clock)
    assert pop["route"] == "picker"
    assert [m["name"] for m in pop["matches"]] == ["Ada Lovelace", "Bob Stone"]
    assert pop["degraded"] == NO_TIME_TO_ENRICH and pop["partial"] == ["billing", "fulfillment"]


async def test_a_source_slower_than_what_is_left_is_cut_at_the_ring_deadline_not_its_own():
    clock = Clock(RANG_AT + 0.8)
    sources = TimedSources(clock, [ADA], never={"billing"})
    loop = asyncio.get_running_loop()
    started = loop.time()
    pop = await compose(sources, clock)
    assert loop.time() - started < 1.0, "its own deadline is 5 s; the ring's ends 0.2 s on"
    assert sources.deadlines["billing"] == pytest.approx(0.2), "gRPC is told the shorter deadline too"
    assert pop["degraded"] == CUT_AT_RING_DEADLINE
    assert pop["partial"] == ["billing"]
    assert pop["purchases"], "fulfillment answered within what was left"


async def test_recalls_are_skipped_when_the_purchases_used_up_the_budget():
    clock = Clock(RANG_AT)
    sources = TimedSources(clock, [ADA], takes={"fulfillment": 0.98})
    pop = await compose(sources, clock)
    assert "insights" not in sources.deadlines
    assert pop["degraded"] == NO_TIME_TO_ENRICH and pop["partial"] == ["insights"]
    assert pop["balance"]["display"] == "USD 123.45" and pop["purchases"]


async def test_a_source_down_with_time_to_spare_is_partial_but_not_degraded():
    clock = Clock(RANG_AT)
    sources = TimedSources(clock, [ADA], never={"billing"})
    pop = await compose(sources, clock, Deadlines(match=0.3, source=0.05))
    assert pop["partial"] == ["billing"] and pop["degraded"] is None


async def test_without_the_invite_time_the_budget_runs_from_now():
    clock = Clock(RANG_AT + 100.0)
    sources = TimedSources(clock, [ADA])
    pop = await compose_pop(
        ringing=RINGING, sources=sources, deadlines=LONG, region="US", budget=BUDGET, clock=clock
    )
    assert pop["degraded"] is None and pop["partial"] == []
