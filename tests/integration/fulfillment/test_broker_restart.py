"""The broker restarted, or killed, while fulfillments are inside their steps: each still ends exactly once.

The stack runs on a RabbitMQ node of this module's own (tests/support/broker.py) and a database of its
own, so taking the broker away touches no other test. Steps are held at their gate (workflow_store's
advisory lock) while the broker goes, so the worker is inside a step's transaction holding a message it
has not acknowledged; a request made while the broker is down exists only in fulfillment's outbox.
"""

from __future__ import annotations

from collections import Counter

import pika
import pytest
from crs.billing.v1 import billing_pb2

from tests.integration.fulfillment.conftest import WORKER_QUEUE, running_stack
from tests.integration.fulfillment.test_reply_fulfillment import states, stock_in
from tests.integration.fulfillment.test_worker_crashes import paused, total_stock
from tests.support import infra
from tests.support.broker import PrivateBroker
from tests.support.wait import wait_for

SKU = "TEST-RESTART-TOWELS"


@pytest.fixture(scope="module")
def broker():
    started = PrivateBroker().start()
    yield started
    started.close()


@pytest.fixture(scope="module")
def restart_stack(service_env, directory, broker):
    with infra.migrated_database("crs_broker_restart") as database_url:
        env = dict(service_env, CRS_AMQP_URL=broker.url)
        # No sweep within the test's time: what the broker held must come back from the broker itself.
        with running_stack(
            env, database_url, directory, CRS_FULFILLMENT_STALLED_AFTER_SECONDS="3600"
        ) as stack:
            stack.sql(f"INSERT INTO fulfillment.product (sku, name) VALUES ('{SKU}', 'Test Towels')")
            yield stack


def waiting_at_gates(gate_conn) -> int:
    (count,) = gate_conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    return count


def outbox_is_empty(stack) -> bool:
    return stack.sql("SELECT count(*) FROM fulfillment.outbox") == [(0,)]


def ready_in_worker_queue(broker) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(broker.url))
    try:
        declared = connection.channel().queue_declare(WORKER_QUEUE, passive=True)
        return declared.method.message_count
    finally:
        connection.close()


def ledger(stack, consumer_id: str) -> list[tuple[int, str]]:
    entries = stack.billing.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(consumer_id=consumer_id), timeout=5
    ).entries
    return [(e.amount.amount_minor, e.reference) for e in entries]


def assert_still_running(stack) -> None:
    for process in (stack.worker, *stack.processes):
        assert process.process.poll() is None, f"{process.module} died with the broker:\n{process.output()}"


@pytest.mark.parametrize("kill", [False, True], ids=["restarted", "killed"])
def test_steps_in_flight_when_the_broker_goes_end_exactly_once(restart_stack, directory, broker, kill):
    stack = restart_stack
    stock_in(stack, SKU, {f"DC-RESTART-{kill}": 5})
    before = total_stock(stack, SKU)
    replacement_case = directory.add_case(phones=[f"+1555060{int(kill)}001"], address=("5 Elm St", "02134"))
    refund_case = directory.add_case(phones=[f"+1555060{int(kill)}002"])
    outboxed_case = directory.add_case(phones=[f"+1555060{int(kill)}003"])

    with paused(stack, "ship") as gate, paused(stack, "credited"):
        replacement = stack.request(replacement_case, "replacement", sku=SKU, quantity=2).id
        refund = stack.request(refund_case, "refund", value=1500).id
        # The replacement waits to ship; the refund's credit is posted and its confirmation waits.
        wait_for(lambda: waiting_at_gates(gate) >= 2, timeout=60, what="both steps to reach their gates")
        broker.stop(kill=kill)
        outboxed = stack.request(outboxed_case, "coupon", value=400, sku=SKU).id
        broker.start()

    shipped = stack.wait_state(replacement, "shipped", "delivered", timeout=120)
    credited = stack.wait_state(refund, "delivered", timeout=120)
    assert states(shipped)[:5] == [
        "requested",
        "approved",
        "in_progress/reserved",
        "in_progress/picked",
        "shipped",
    ]
    assert total_stock(stack, SKU) == (before[0] - 2, 0)
    movements = stack.sql(
        "SELECT kind, quantity FROM fulfillment.stock_movement WHERE fulfillment_id = %s ORDER BY id",
        (replacement,),
    )
    assert movements == [("reserved", 2), ("shipped", -2)]
    assert stack.sql(
        "SELECT count(*) FROM fulfillment.shipment WHERE fulfillment_id = %s", (replacement,)
    ) == [(1,)]
    assert Counter(states(credited)) == Counter(
        ["requested", "approved", "in_progress/credit_requested", "delivered"]
    )
    assert ledger(stack, credited.consumer_id) == [(1500, f"fulfillment:{refund}")]
    assert_issued_once(stack, stack.wait_state(outboxed, "delivered", timeout=120))
    assert_still_running(stack)


@pytest.mark.parametrize("kill", [False, True], ids=["restarted", "killed"])
def test_a_request_waiting_in_the_broker_is_still_there_after_it_comes_back(
    restart_stack, directory, broker, kill
):
    stack = restart_stack
    case = directory.add_case(phones=[f"+1555061{int(kill)}001"])
    assert stack.worker.stop() == 0, stack.worker.output()
    queued = stack.request(case, "coupon", value=300, sku=SKU).id
    wait_for(
        lambda: outbox_is_empty(stack) and ready_in_worker_queue(broker) == 1,
        timeout=30,
        what="the coupon's event to wait in the worker's queue",
    )
    broker.stop(kill=kill)
    broker.start()
    stack.start_worker()
    assert_issued_once(stack, stack.wait_state(queued, "delivered", timeout=120))
    assert_still_running(stack)


def assert_issued_once(stack, coupon) -> None:
    assert states(coupon) == ["requested", "approved", "in_progress/issued", "delivered"]
    assert stack.sql("SELECT count(*) FROM fulfillment.coupon WHERE fulfillment_id = %s", (coupon.id,)) == [
        (1,)
    ]
