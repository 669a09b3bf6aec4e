"""`crs seed --demo` for insights: a year of sales and coded contacts with one planted lot problem, which
the early warning raises and the dashboard ranks first, with verbatims whose themes show it; seeding again
changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.insights import seed
from services.insights.service import Insights
from services.insights.store import SqlStore
from services.insights.themes import Scope, ThemeFinder
from services.insights.themes_store import SqlThemeStore
from services.runtime.db import open_pool
from tests.support import infra


@pytest.fixture(scope="module")
def demo_db():
    with infra.migrated_database("crs_insights_demo") as url:
        yield url


async def test_the_demo_raises_the_planted_lot_problem_and_seeding_again_changes_nothing(demo_db):
    seed.seed_demo(demo_db)
    pool = await open_pool(demo_db, schema="insights", max_size=2)
    try:
        insights = Insights(SqlStore(pool))
        contacts, sales = len(await insights.store.contacts()), len(await insights.store.sales())
        assert contacts > 1000 and sales > 100
        seed.seed_demo(demo_db)
        assert len(await insights.store.contacts()) == contacts
        assert len(await insights.store.sales()) == sales

        raised = await insights.recompute()
        lots = {(a.signal.sku, a.signal.lot_code, a.signal.issue_code) for a in raised if a.signal.lot_code}
        assert (seed.PLANTED_SKU, "OAT-12", seed.PLANTED_CODE) in lots
        top = (await insights.rising(limit=1))[0]
        assert (top.sku, top.issue_code, top.alarming) == (seed.PLANTED_SKU, seed.PLANTED_CODE, True)
        (oats,) = await insights.cpmu_trend(weeks=13, sku=seed.PLANTED_SKU)
        assert oats.points[-1].week <= date.today() and oats.points[-1].above
        figures = [await insights.report(name, by="agent") for name in ("response-times", "csat", "nps")]
        assert {r.key for r in figures[1].rows} == {"ada", "ben", "(all)"}
        assert all(r.values[0] > 0 for f in figures for r in f.rows if r.key != "(none)")
        assert await insights.rebuild() == contacts, "the demo's contacts survive a rebuild"
        after = [await insights.report(name, by="agent") for name in ("response-times", "csat", "nps")]
        assert after == figures, "and so do the reports' cases and answers"

        # The planted plastic has words too: the oats' complaints of the last four weeks group into
        # themes, and the plastic one holds the planted contacts.
        finder = ThemeFinder(SqlThemeStore(pool))
        today = date.today()
        scope = Scope.of(
            start=today - timedelta(weeks=4), end=today, sku=seed.PLANTED_SKU, issue_prefix="complaint",
            today=today,
        )  # fmt: skip
        run = await finder.themes(scope)
        codes = {}
        for theme in run.themes:
            _, held, _ = await finder.contacts(run.id, theme.id)
            codes[theme.id] = {v.issue_code for v in held}
        plastic = [t for t in run.themes if seed.PLANTED_CODE in codes[t.id]]
        assert all(codes[t.id] == {seed.PLANTED_CODE} for t in plastic), "plastic themes hold plastic alone"
        assert sum(t.size for t in plastic) == seed.PLANTED_CONTACTS
        assert run.themes[0] in plastic and any("plastic" in term for term in run.themes[0].terms)
    finally:
        await pool.close()


async def test_the_planted_alert_opens_a_recall_whose_script_pops_for_the_demo_caller_who_bought_it(demo_db):
    """Jane Doe, who rings ada in the demo, bought the planted oats: her order_placed waits in fulfillment's
    outbox, and once insights takes it and sam opens the recall from the alert, the recall covers what she
    bought (what the pop asks) and counts her in its tally."""
    from services.cli.seed import consumer_id
    from services.fulfillment import seed as fulfillment_seed
    from services.runtime.db import connect
    from services.runtime.events import Event

    seed.seed_demo(demo_db)
    fulfillment_seed.seed_demo(demo_db)
    with connect(demo_db, schema="fulfillment") as conn:
        rows = conn.execute("SELECT body FROM outbox WHERE routing_key = 'order_placed'").fetchall()
    jane = consumer_id(0)
    (order,) = [e for e in (Event.from_json(bytes(r[0])) for r in rows) if e.data["consumer_id"] == jane]
    assert [line["sku"] for line in order.data["lines"]] == [seed.PLANTED_SKU]
    pool = await open_pool(demo_db, schema="insights", max_size=2)
    try:
        insights = Insights(SqlStore(pool))
        await insights.take_order(order.id, order.data)
        await insights.recompute()
        alert = next(a for a in await insights.alerts() if a.signal.lot_code == "OAT-12")
        recall = await insights.open_recall(
            actor="sam", role="supervisor", alert_id=alert.id, lot_codes=[], regions=[],
            title="Golden Rolled Oats lot OAT-12", script=["Please stop eating these oats."],
            consumer_message="Do not eat lot OAT-12.",
        )  # fmt: skip
        assert (recall.sku, recall.lot_codes) == (seed.PLANTED_SKU, ("OAT-12",))
        assert [r.id for r in await insights.find_recalls([(seed.PLANTED_SKU, "")])] == [recall.id]
        assert (await insights.recall_tally(recall.id)).buyers == 1
    finally:
        await pool.close()
