"""The cells the early warning reads: a contact's versions move its count, and the alerts computed from
the cells are the alerts computed from the contacts."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from services.insights.domain import aggregates, signals
from services.insights.domain.facts import ContactFact
from services.insights.domain.sales import SalesRow
from tests.unit.insights.fakes import FakeStore, behind_of

TODAY = date(2026, 12, 2)
TASTE, PLASTIC = "complaint.quality.taste.stale", "complaint.quality.foreign_object.plastic"
GRITTY = "complaint.quality.texture.gritty"


def fact(contact_id="c1", *, code=TASTE, channel="phone", on_file=True, day=TODAY, lot="L1") -> ContactFact:
    return ContactFact(contact_id, "OAT-500", lot, "IL", code, channel, day, on_file)


async def test_a_contact_recoded_moves_one_count_from_its_old_code_to_its_new():
    store = FakeStore()
    for n in range(3):
        await store.put_contact(fact(f"c{n}"), 1)
    await store.put_contact(fact("c0", code=PLASTIC), 2)
    counts = {key[3]: (c.contacts, c.weight) for key, c in store.cells.items()}
    assert counts == {TASTE: (2, 2.0), PLASTIC: (1, 1.0)}


async def test_an_older_version_arriving_late_moves_nothing():
    store = FakeStore()
    await store.put_contact(fact(code=PLASTIC), 2)
    await store.put_contact(fact(code=TASTE), 1)
    assert [(k[3], c.contacts) for k, c in store.cells.items()] == [(PLASTIC, 1)]


async def test_a_consumer_found_for_a_web_form_contact_raises_its_weight_and_keeps_its_count():
    store = FakeStore()
    await store.put_contact(fact(channel="web", on_file=False), 1)
    assert [(c.contacts, c.weight) for c in store.cells.values()] == [(1, 0.25)]
    await store.put_contact(fact(channel="web", on_file=True), 2)
    assert [(c.contacts, c.weight) for c in store.cells.values()] == [(1, 1.0)]


async def test_the_last_contact_moved_out_of_a_cell_removes_the_cell():
    store = FakeStore()
    await store.put_contact(fact(day=TODAY - timedelta(days=3)), 1)
    await store.put_contact(fact(day=TODAY), 2)
    assert [k[5] for k in store.cells] == [TODAY]


def test_a_week_is_one_row_for_the_detectors_except_where_they_look_at_days():
    split = aggregates.split_weeks(TODAY)  # a Wednesday: this week, and the windows' first weeks
    old = aggregates.Cell("OAT-500", "L1", "IL", TASTE, "phone", date(2026, 6, 3), 3, 2.5)
    same_week = aggregates.Cell("OAT-500", "L1", "IL", TASTE, "web", date(2026, 6, 5), 1, 0.25)
    this_week = aggregates.Cell("OAT-500", "L1", "IL", TASTE, "phone", TODAY, 1, 1.0)
    rows = aggregates.roll_up([old, same_week, this_week], split)
    assert sorted((r.received_on, r.weight) for r in rows) == [(date(2026, 6, 1), 2.75), (TODAY, 1.0)]


def history(seed: int) -> tuple[list[ContactFact], list[SalesRow]]:
    """A year of complaints over four products in three regions, a cluster on one lot in the last weeks,
    a product whose mix turns to a new code, web-form contacts, contacts dated after today and recodes."""
    rng = random.Random(seed)
    first = TODAY - timedelta(weeks=52)
    regions, codes = ("IL", "CA", "NY"), (TASTE, PLASTIC, "complaint.packaging.seal", "praise.taste")
    sales = [
        SalesRow(f"SKU-{p}", f"L{w // 4}", r, first + timedelta(weeks=w), first + timedelta(weeks=w, days=6),
                 rng.randint(5_000, 50_000) * (p + 1))
        for p in range(4) for w in range(53) for r in regions
    ]  # fmt: skip
    facts = []
    for i in range(10_000):
        p, day = rng.randrange(4), rng.randrange(53 * 7 + 3)
        facts.append(
            ContactFact(f"c{i}", f"SKU-{p}", f"L{day // 28}", rng.choice(regions), rng.choice(codes[:3] if p else codes),
                        rng.choice(("web", "phone", "email")), first + timedelta(days=day), rng.random() < 0.7)
        )  # fmt: skip
    for i in range(40):
        day = TODAY - timedelta(days=rng.randrange(20))
        facts.append(ContactFact(f"k{i}", "SKU-2", "L12", "CA", PLASTIC, "phone", day, True))
    for i in range(80):
        day = TODAY - timedelta(days=rng.randrange(20))
        facts.append(ContactFact(f"g{i}", "SKU-3", "L12", regions[i % 3], GRITTY, "email", day, i % 2 == 0))
    return facts, sales


def normalised(found: list[signals.Signal], facts: list[ContactFact]) -> list[signals.Signal]:
    day = {f.contact_id: f.received_on for f in facts}
    return [s.__class__(**{**s.__dict__, "contact_ids": tuple(sorted(s.contact_ids, key=lambda c: (day[c], c)))})
            for s in found]  # fmt: skip


@pytest.mark.parametrize("today", [TODAY + timedelta(days=n) for n in (0, 3, 4, 5)])  # Wed, Sat, Sun, Mon
def test_the_alerts_from_the_cells_are_the_alerts_from_the_contacts(today):
    facts, sales = history(seed=today.toordinal())
    cells: dict = {}
    for f in facts:
        aggregates.apply(cells, aggregates.moves(None, f))
    direct = normalised(signals.compute(facts, sales, today=today), facts)
    rows = aggregates.roll_up(cells.values(), aggregates.split_weeks(today))
    from_cells = signals.compute(rows, sales, today=today)
    resolved = aggregates.resolve(from_cells, behind_of(facts, aggregates.tokens(from_cells)))
    assert len(rows) < len(facts) / 2
    assert {s.method for s in direct} == {"glr_cusum", "lot_poisson_bh", "prr", "ebgm"}
    assert resolved == direct
