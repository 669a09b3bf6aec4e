"""The contact cells in PostgreSQL: built as events arrive (a recode, a late older version, a consumer found,
the same event twice), they equal what a rebuild from the event log makes of them, and the early warning
read from them names the real contacts behind its alert."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.insights.service import Insights, Received
from services.insights.store import SqlStore
from services.runtime.db import open_pool
from tests.support import infra
from tests.support import insights_scenario as scenario

SEAL = "complaint.packaging.seal"


@pytest.fixture(scope="module")
def cells_db():
    """Its own database: the cells count every contact insights holds."""
    with infra.migrated_database("crs_insights_cells") as url:
        yield url


def event(case: dict) -> Received:
    return Received(str(uuid.uuid4()), "contacts", "contact_updated", datetime.now(UTC), {"case": case})


def cell_counts(cells) -> dict:
    return {c.key: (c.contacts, c.weight) for c in cells}


async def test_the_cells_after_a_replay_equal_those_built_as_contacts_arrived(cells_db):
    today = date.today()
    pool = await open_pool(cells_db, schema="insights", max_size=2)
    try:
        store = SqlStore(pool)
        insights = Insights(store)
        rows = list(csv.DictReader(io.StringIO(scenario.sales_csv(today))))
        await insights.import_sales(rows, source="pos.csv", actor="quinn", role="analyst")
        cases = scenario.cases(today)
        for case in cases:
            taken = event(case)
            assert await insights.take(taken)
            assert not await insights.take(taken)
        recoded = {**cases[0], "version": 2, "issue_code": SEAL}
        await insights.take(event(recoded))
        await insights.take(event({**cases[0], "version": 0, "issue_code": "complaint.quality.texture"}))
        moved = {**cases[1], "version": 2, "occurred_at": f"{today - timedelta(days=40)}T09:00:00Z"}
        await insights.take(event(moved))

        built = cell_counts(await store.cells())
        assert sum(n for n, _ in built.values()) == len(cases)
        codes = [key[3] for key, (n, _) in built.items() for _ in range(n)]
        assert codes.count(SEAL) == 1
        assert "complaint.quality.texture" not in codes
        assert any(key[5] == today - timedelta(days=40) for key in built)
        raised = await insights.recompute()

        assert await insights.rebuild() == len(cases) + 3  # the three later versions too
        assert cell_counts(await store.cells()) == built
        lot_alert = next(a for a in raised if a.signal.lot_code == "L3")
        held = {f.contact_id for f in await store.contacts()}
        assert set(lot_alert.signal.contact_ids) <= held
        assert len(lot_alert.signal.contact_ids) == 8
    finally:
        await pool.close()
