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
