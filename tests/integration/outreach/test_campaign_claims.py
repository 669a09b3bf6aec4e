"""Campaign recipients on real PostgreSQL: made once, claimed by one sender at a time, taken back from a
sender that died mid-send, held while paused, and counted for the progress the console shows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.outreach.campaigns import NotAllowedNow
from services.outreach.campaigns_store import LEASE, CampaignStore, Outcome
from services.runtime import migrate
from services.runtime.db import open_pool
from tests.support import infra


@pytest.fixture
def now():
    """Recipients are due from when they are made; the claims are asked about a moment after (taken per
    test, since a module's tests may run minutes after it is imported)."""
    return datetime.now(UTC) + timedelta(minutes=1)


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_claims")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


@pytest.fixture
async def store(outreach_db):
    pool = await open_pool(outreach_db, schema="outreach", max_size=4)
    try:
        yield CampaignStore(pool)
    finally:
        await pool.close()


async def running(store, n):
    cid = await store.create(
        kind="marketing", name=f"c{uuid.uuid4()}", subject="s", body="b", created_by="mo"
    )
    rows = [(str(uuid.uuid4()), f"p{i}@example.org", "UTC") for i in range(n)]
    assert await store.add_recipients(cid, rows) == n
    assert await store.add_recipients(cid, rows[:10]) == 0  # a recipient is made once
    await store.move(cid, "test", tested_to="mo@example.org")
    await store.move(cid, "start")
    return cid


async def test_two_senders_never_claim_the_same_recipient(store, now):
    cid = await running(store, 2000)
    first, second = await asyncio.gather(store.claim(cid, now, 1200), store.claim(cid, now, 1200))
    a, b = {c.consumer_id for c in first}, {c.consumer_id for c in second}
    assert not a & b
    assert len(a | b) == 2000


async def test_a_dead_senders_claim_is_taken_back_after_its_lease_only(store, now):
    cid = await running(store, 50)
    taken = await store.claim(cid, now, 50)
    assert await store.claim(cid, now + LEASE / 2, 50) == []
    again = await store.claim(cid, now + LEASE + timedelta(seconds=1), 50)
    assert {c.consumer_id for c in again} == {c.consumer_id for c in taken}
    assert {c.attempts for c in again} == {2}


async def test_a_paused_campaign_sends_nothing_until_resumed(store, now):
    cid = await running(store, 20)
    await store.move(cid, "pause")
    assert await store.claim(cid, now, 20) == []
    with pytest.raises(NotAllowedNow):
        await store.move(cid, "start")
    await store.move(cid, "resume")
    assert len(await store.claim(cid, now, 20)) == 20


async def test_progress_counts_each_outcome_and_deferred_ones_come_back_when_due(store, now):
    cid = await running(store, 10)
    claimed = await store.claim(cid, now, 10)
    later = now + timedelta(hours=9)
    outcomes = [Outcome(c.consumer_id, "sent") for c in claimed[:6]]
    outcomes += [Outcome(claimed[6].consumer_id, "suppressed", reason="no consent for marketing")]
    outcomes += [Outcome(c.consumer_id, "deferred", due_at=later, reason="quiet hours") for c in claimed[7:]]
    await store.record(cid, outcomes)
    progress = await store.progress(cid)
    assert (progress.sent, progress.suppressed, progress.deferred, progress.remaining) == (6, 1, 3, 3)
    assert await store.claim(cid, now + timedelta(hours=1), 10) == []
    back = await store.claim(cid, later, 10)
    assert {c.consumer_id for c in back} == {c.consumer_id for c in claimed[7:]}
    await store.record(cid, [Outcome(c.consumer_id, "sent") for c in back])
    assert (await store.progress(cid)).done
