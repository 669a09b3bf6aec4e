"""SIGKILL of the worker at each step of a refund and of a replacement: each still ends exactly once.

A step is paused by holding its advisory lock (workflow_store's step gate), so the worker is killed
while it is inside that step's transaction, after every earlier step has committed and before the
message is acknowledged: the broker then redelivers to the next worker, which must not redo anything.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

import psycopg
import pytest
from crs.billing.v1 import billing_pb2

from services.fulfillment.workflow_store import GATE_PREFIX
from tests.integration.fulfillment.test_reply_fulfillment import states, stock_in
from tests.support.wait import wait_for


@pytest.fixture(scope="module", autouse=True)
def products(stack):
    stack.sql(
        "INSERT INTO fulfillment.product (sku, name) VALUES ('TEST-TOWELS', 'Test Towels'),"
        " ('TEST-LINERS', 'Test Liners') ON CONFLICT DO NOTHING"
    )


@contextmanager
def paused(stack, step: str):
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (GATE_PREFIX + step,))
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (GATE_PREFIX + step,))


def waiting_at_gate(conn) -> bool:
    (count,) = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    return count > 0


def total_stock(stack, sku: str) -> tuple[int, int]:
    [(on_hand, reserved)] = stack.sql(
        "SELECT sum(on_hand)::int, sum(reserved)::int FROM fulfillment.stock WHERE sku = %s", (sku,)
    )
    return on_hand, reserved


def kill_worker_inside(stack, step: str, start) -> str:
    """Start a request with `start()` while `step` is paused; SIGKILL the worker inside it; restart."""
    with paused(stack, step) as gate:
        fulfillment_id = start()
        wait_for(lambda: waiting_at_gate(gate), timeout=30, what=f"the worker to reach {step}")
        stack.worker.process.kill()
        stack.worker.process.wait()
    stack.start_worker()
    return fulfillment_id


@pytest.mark.parametrize("step", ["request_credit", "credited"])
def test_a_refund_killed_at_each_step_is_credited_exactly_once(stack, directory, step):
    case = directory.add_case(phones=[f"+1555020{len(step):04d}"])
    fid = kill_worker_inside(stack, step, lambda: stack.request(case, "refund", value=1500).id)
    done = stack.wait_state(fid, "delivered", timeout=60)
    assert Counter(states(done)) == Counter(
        ["requested", "approved", "in_progress/credit_requested", "delivered"]
    )
    entries = stack.billing.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(consumer_id=done.consumer_id), timeout=5
    ).entries
    assert [(e.amount.amount_minor, e.reference) for e in entries] == [(1500, f"fulfillment:{fid}")]


@pytest.mark.parametrize("step", ["reserve", "pick", "ship"])
def test_a_replacement_killed_at_each_step_reserves_and_ships_exactly_once(stack, directory, step):
    stock_in(stack, "TEST-TOWELS", {f"DC-CRASH-{step.upper()}": 5})
    before = total_stock(stack, "TEST-TOWELS")
    case = directory.add_case(phones=[f"+1555031{len(step):04d}"], address=("5 Elm St", "02134"))
    fid = kill_worker_inside(
        stack, step, lambda: stack.request(case, "replacement", sku="TEST-TOWELS", quantity=2).id
    )
    done = stack.wait_state(fid, "shipped", "delivered", timeout=60)
    assert states(done)[:5] == [
        "requested",
        "approved",
        "in_progress/reserved",
        "in_progress/picked",
        "shipped",
    ]
    assert total_stock(stack, "TEST-TOWELS") == (before[0] - 2, 0)
    movements = stack.sql(
        "SELECT kind, quantity FROM fulfillment.stock_movement WHERE fulfillment_id = %s ORDER BY id", (fid,)
    )
    assert movements == [("reserved", 2), ("shipped", -2)]
    assert stack.sql("SELECT count(*) FROM fulfillment.shipment WHERE fulfillment_id = %s", (fid,)) == [(1,)]


def test_concurrent_requests_for_the_last_units_never_oversell(stack, directory):
    stock_in(stack, "TEST-LINERS", {"DC-LAST": 3})
    cases = [
        directory.add_case(phones=[f"+155504000{n}"], address=(f"{n} Oak Ave", "60601")) for n in range(7)
    ]
    ids: list[str] = []
    lock = threading.Lock()

    def ask(case):
        fid = stack.request(case, "sample", sku="TEST-LINERS").id
        with lock:
            ids.append(fid)

    threads = [threading.Thread(target=ask, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = [stack.wait_state(fid, "shipped", "delivered", "failed", timeout=60) for fid in ids]
    outcomes = Counter("failed" if f.state == "failed" else "sent" for f in final)
    assert outcomes == Counter({"sent": 3, "failed": 4})
    assert all("in stock" in f.reason for f in final if f.state == "failed")
    assert stack.sql(
        "SELECT on_hand, reserved FROM fulfillment.stock WHERE sku = 'TEST-LINERS' AND location_id = 'DC-LAST'"
    ) == [(0, 0)]
