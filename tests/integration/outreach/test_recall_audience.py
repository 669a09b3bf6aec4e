"""A recall's audience from outreach's own read models on real PostgreSQL: buyers of the SKU in the
recall's regions (a lot unknown or recalled) and consumers who contacted us about it; then the tally."""

from __future__ import annotations

import json
import pathlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.outreach.campaigns_store import CampaignStore, Outcome
from services.outreach.recalls import Purchase, Recall
from services.outreach.recalls_store import RecallStore
from services.runtime import migrate
from services.runtime.db import open_pool
from tests.support import infra

FIXTURE = pathlib.Path(__file__).parents[2] / "unit" / "outreach" / "fixtures" / "recall_opened.json"
AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_recall")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


@pytest.fixture
async def pool(outreach_db):
    pool = await open_pool(outreach_db, schema="outreach", max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def person():
    return str(uuid.uuid4())


async def test_the_recall_reaches_buyers_and_those_who_asked_and_the_tally_counts_sends(pool):
    recall = Recall.from_event(json.loads(FIXTURE.read_text()))
    store = RecallStore(pool)
    lot_buyer, unknown_lot, other_lot, elsewhere, asked = (person() for _ in range(5))
    await store.take_purchases("o1", AT, [Purchase(lot_buyer, "OAT-500", "L2611A", "GB-ENG")])
    await store.take_purchases("o2", AT, [Purchase(unknown_lot, "OAT-500", "", "GB-WLS")])
    await store.take_purchases("o3", AT, [Purchase(other_lot, "OAT-500", "L2501Z", "GB-ENG")])
    await store.take_purchases("o4", AT, [Purchase(elsewhere, "OAT-500", "L2611A", "FR-IDF")])
    case = {"id": str(uuid.uuid4()), "consumer_id": asked, "issue_code": "complaint.quality", "product": {}}
    await store.take_contact(case, AT)
    # The contact's later event names the lot; the read model keeps the contact once, as it now is.
    await store.take_contact({**case, "product": {"sku": "", "lot_code": "L2611B"}}, AT + timedelta(hours=1))
    await store.take_contact({"id": str(uuid.uuid4()), "consumer_id": "", "product": {"sku": "OAT-500"}}, AT)

    audience = await store.affected(recall)
    assert sorted(audience) == sorted([lot_buyer, unknown_lot, asked])

    campaigns = CampaignStore(pool)
    cid = await campaigns.create(
        kind="recall",
        name=recall.title,
        subject=recall.subject(),
        body=recall.consumer_message,
        created_by="sam",
        key=recall.campaign_key(),
    )
    assert (
        await campaigns.create(
            kind="recall", name="again", subject="s", body="b", created_by="sam", key=recall.campaign_key()
        )
        == cid
    )
    await campaigns.add_recipients(cid, [(c, f"{c}@example.org", "UTC") for c in audience])
    await campaigns.move(cid, "test")
    await campaigns.move(cid, "start")
    claimed = await campaigns.claim(cid, datetime.now(UTC) + timedelta(minutes=1), 2)
    await campaigns.record(cid, [Outcome(c.consumer_id, "sent") for c in claimed])
    assert await store.tally(recall.recall_id) == (3, 2)
    assert await store.tally("no-such-recall") == (0, 0)


async def test_a_segment_is_saved_as_data_and_read_back(pool):
    from services.outreach.segments import Definition
    from services.outreach.segments_store import SegmentNameTaken, SegmentStore

    segments = SegmentStore(pool)
    definition = Definition.parse({"regions": ["GB-ENG"], "bought_skus": ["OAT-500"], "consent": "marketing"})
    saved = await segments.save("Oat buyers in England", definition, "mo")
    with pytest.raises(SegmentNameTaken):
        await segments.save("Oat buyers in England", definition, "mo")
    listed = {s.name: s for s in await segments.list()}
    assert listed["Oat buyers in England"].definition == definition
    assert listed["Oat buyers in England"].id == saved.id
