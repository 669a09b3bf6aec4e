"""The worker's fast path: requests that arrive together are moved along in one transaction, and what it
cannot take (a row held elsewhere, a paused step, a step that fails) is left to the one-request path
with nothing done twice. Against PostgreSQL, on a database of this module's own."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from services.fulfillment import workflow_batch
from services.fulfillment.workflow_store import GATE_PREFIX, Outcome, Settings
from services.runtime import db
from tests.support import infra

ACTOR = "fulfillment-worker"


@pytest.fixture(scope="module")
def url():
    with infra.migrated_database("crs_test_batch") as found:
        yield found


@pytest.fixture
def conn(url):
    with db.connect(url, schema="fulfillment") as found:
        yield found


def approved(conn, kind: str = "coupon", template: str = "") -> str:
    fid = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO fulfillment (id, case_id, consumer_id, kind, state, value_minor, template,"
        " requested_by, requested_role) VALUES (%s, %s, %s, %s, 'approved', 100, %s, 'ada', 'agent')",
        (fid, str(uuid.uuid4()), str(uuid.uuid4()), kind, template),
    )
    conn.commit()
    return fid


def timeline(conn, fid: str) -> list[str]:
    rows = conn.execute(
        "SELECT state, stage FROM fulfillment_step WHERE fulfillment_id = %s ORDER BY id", (fid,)
    ).fetchall()
    conn.commit()
    return [f"{state}/{stage}" if stage else state for state, stage in rows]


def count(conn, query: str, params=()) -> int:
    (found,) = conn.execute(query, params).fetchone()
    conn.commit()
    return found


def events(conn, fid: str) -> list[str]:
    rows = conn.execute(
        "SELECT routing_key FROM outbox WHERE convert_from(body, 'UTF8')::jsonb -> 'data' ->> 'fulfillment_id' = %s"
        " ORDER BY id",
        (fid,),
    ).fetchall()
    conn.commit()
    return [r[0] for r in rows]


def test_coupons_run_together_are_each_issued_once_with_a_timeline_row_and_an_event_per_move(conn):
    ids = [approved(conn) for _ in range(5)]
    batch = workflow_batch.run_together(conn, ids + ids[:2], Settings(), actor=ACTOR)
    assert batch.done == {fid: ["issue", "send"] for fid in ids} and batch.left == []
    again = workflow_batch.run_together(conn, ids, Settings(), actor=ACTOR)
    assert again.done == {fid: [] for fid in ids} and again.left == []
    for fid in ids:
        assert timeline(conn, fid) == ["in_progress/issued", "delivered"]
        assert events(conn, fid) == ["fulfillment_in_progress", "fulfillment_delivered"]
        assert count(conn, "SELECT count(*) FROM coupon WHERE fulfillment_id = %s", (fid,)) == 1
        state, reason = conn.execute("SELECT state, reason FROM fulfillment WHERE id = %s", (fid,)).fetchone()
        assert (state, reason) == ("delivered", "coupon sent to the consumer")
    conn.commit()


def test_a_paused_step_leaves_its_requests_to_the_one_request_path_after_the_earlier_steps_commit(url, conn):
    ids = [approved(conn) for _ in range(3)]
    with psycopg.connect(url, autocommit=True) as operator:
        operator.execute("SELECT pg_advisory_lock(hashtext(%s))", (GATE_PREFIX + "send",))
        batch = workflow_batch.run_together(conn, ids, Settings(), actor=ACTOR)
        assert sorted(batch.left) == sorted(ids)
        assert batch.done == {fid: ["issue"] for fid in ids}
        for fid in ids:
            assert timeline(conn, fid) == ["in_progress/issued"]
        operator.execute("SELECT pg_advisory_unlock(hashtext(%s))", (GATE_PREFIX + "send",))
    assert workflow_batch.run_together(conn, ids, Settings(), actor=ACTOR).done == {
        fid: ["send"] for fid in ids
    }
    assert count(conn, "SELECT count(*) FROM coupon WHERE fulfillment_id = ANY(%s::uuid[])", (ids,)) == 3


def test_a_request_held_by_another_transaction_is_left_without_waiting_for_it(url, conn):
    held, free = approved(conn), approved(conn)
    with psycopg.connect(url) as other:
        other.execute("SELECT 1 FROM fulfillment.fulfillment WHERE id = %s FOR UPDATE", (held,))
        batch = workflow_batch.run_together(conn, [held, free], Settings(), actor=ACTOR)
        other.rollback()
    assert batch.left == [held] and batch.done == {free: ["issue", "send"]}
    assert timeline(conn, held) == []


def test_a_step_that_fails_rolls_the_whole_batch_back(conn):
    coupon, letter = approved(conn), approved(conn, kind="letter", template="no-such-letter")
    with pytest.raises(Outcome):
        workflow_batch.run_together(conn, [coupon, letter], Settings(), actor=ACTOR)
    assert timeline(conn, coupon) == [] and timeline(conn, letter) == []
    assert count(conn, "SELECT count(*) FROM coupon WHERE fulfillment_id = %s", (coupon,)) == 0
