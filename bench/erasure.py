"""The consumer's rights at scale: time to an erasure's receipt, and a retention sweep's rate.

.venv/bin/python bench/erasure.py            # over 1,000,000 consumers; a sweep of 100,000 recordings
.venv/bin/python bench/erasure.py --quick    # over 100,000 consumers; a sweep of 10,000 recordings

Erasure: each of a few consumers gets 100 cases (verbatims naming them) and 20 recorded calls filed on
them, a ledger entry and an order; the time is from RequestErasure to the receipt (every step done). Each
receipt is checked: every service done, contacts' counts right, the recordings gone from the store.

Retention: N filed calls 40 days old, each with its recording in the store, a 30-day policy, then
RunRetentionSweep until nothing is left; the rate is recordings removed per second, checked against the
store. Contacts, billing, fulfillment and screenpop run as processes; telephony's Privacy API runs in this
process (its real servicer, over the same recording store), since it needs no SIP to erase.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent import futures
from datetime import UTC, datetime, timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import grpc
import psycopg
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.common.v1 import money_pb2
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, rights_pb2, rights_pb2_grpc
from crs.telephony.v1 import events_pb2

from bench._common import bench_database, free_port, machine, percentiles, require, run_bench
from services.runtime import bus, grpcio, tls
from services.runtime.events import Event
from services.runtime.principal import Principal
from services.runtime.recordings import LocalDirectoryStore
from services.telephony.events import EventPublisher
from services.telephony.privacy import add_to
from tests.support import infra
from tests.support.processes import ServiceProcess, stop_all

CASES, CALLS = 100, 20
# Cases are captured as the console captures them, for an agent; only the console may say who is acting.
AGENT = Principal("bench", "agent").metadata()
PHONE_BASE = 16145600000


def telephony_privacy(store: LocalDirectoryStore) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add_to(server, store, EventPublisher(amqp_url="amqp://unused/"))
    port = server.add_secure_port("127.0.0.1:0", grpcio.server_credentials())
    server.start()
    return server, port


async def file_calls(amqp_url: str, calls: list[tuple[str, str, datetime]]) -> None:
    """call_ended events as telephony publishes them: (number, recording key, started at)."""
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "telephony").open()
        for number, key, started in calls:
            call_id = f"{uuid.uuid4()}@bench"
            ended = events_pb2.CallEnded(
                call_id=call_id,
                extension="1001",
                caller=events_pb2.Caller(number=number),
                reason=events_pb2.END_REASON_COMPLETED,
                duration_seconds=30,
                recording_key=key,
            )
            ended.started_at.FromDatetime(started)
            await publisher.publish(Event.of("telephony", "call_ended", ended, correlation_id=call_id))
    finally:
        await connection.close()


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(what)


def seed_consumer(env, url: str, store: LocalDirectoryStore, n: int) -> tuple[str, list[str]]:
    name, number = f"Bench Person{n:03d}x", f"+{PHONE_BASE + n}"
    added = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "consumer", "add", "--name", name, "--phone", number],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    consumer_id = added.stdout.strip()
    with grpcio.blocking_channel(env["CRS_CONTACTS_GRPC"]) as chan:
        casework = casework_pb2_grpc.CaseworkStub(chan)
        for i in range(CASES):
            case = casework_pb2.Case(
                consumer_id=consumer_id,
                reporter=casework_pb2.Reporter(name=name, phone=number),
                product=casework_pb2.Product(sku="BENCH-1", lot_code=f"L{i % 7}"),
                issue_code="complaint.quality.foreign_object.plastic",
                verbatim=f"{name} found plastic, box {i}; call {number}",
            )
            casework.CreateCase(casework_pb2.CreateCaseRequest(case=case), metadata=AGENT, timeout=10)
    with grpcio.blocking_channel(env["CRS_BILLING_GRPC"]) as chan:
        billing_pb2_grpc.BillingStub(chan).PostLedgerEntry(
            billing_pb2.PostLedgerEntryRequest(
                entry=billing_pb2.LedgerEntry(
                    consumer_id=consumer_id,
                    kind=billing_pb2.ENTRY_KIND_INVOICE,
                    amount=money_pb2.Money(currency="USD", amount_minor=500),
                    reference=f"BENCH-{n}",
                ),
                idempotency_key=str(uuid.uuid4()),
            ),
            timeout=10,
        )
    keys = [f"bench/{consumer_id}/{i}.wav" for i in range(CALLS)]
    for key in keys:
        store.put(key, b"RIFF" + os.urandom(8000))
    asyncio.run(file_calls(env["CRS_AMQP_URL"], [(number, key, datetime.now(UTC)) for key in keys]))

    def filed():
        with psycopg.connect(url) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM contacts.contact WHERE consumer_id = %s AND recording_key IS NOT NULL",
                (consumer_id,),
            ).fetchone()
        return count == CALLS

    wait_until(filed, 60, "the calls filed")
    return consumer_id, keys


def time_erasure(env, consumer_id: str, keys: list[str], store: LocalDirectoryStore) -> float:
    with grpcio.blocking_channel(env["CRS_CONTACTS_GRPC"]) as chan:
        rights = rights_pb2_grpc.ConsumerRightsStub(chan)
        started = time.perf_counter()
        erasure = rights.RequestErasure(
            rights_pb2.RequestErasureRequest(consumer_id=consumer_id, reason="bench"), timeout=10
        )

        def receipt():
            found = rights.GetErasure(rights_pb2.GetErasureRequest(erasure_id=erasure.id), timeout=10)
            return found if found.state == "done" else None

        done = wait_until(receipt, 120, "the receipt")
        elapsed = time.perf_counter() - started
    steps = {s.service: dict(s.erased) for s in done.steps}
    require(
        steps["contacts"].get("cases_anonymised") == CASES + CALLS, f"contacts erased {steps['contacts']}"
    )
    require(steps["telephony"].get("recordings") == CALLS, f"telephony erased {steps['telephony']}")
    require(not any(store.exists(k) for k in keys), "recordings left in the store")
    return elapsed * 1000


def sweep_rate(env, url: str, store: LocalDirectoryStore, count: int) -> float:
    started_at = datetime.now(UTC) - timedelta(days=40)
    keys = [f"retention/{uuid.uuid4().hex}.wav" for _ in range(count)]
    for key in keys:
        store.put(key, b"RIFF")
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            "COPY contacts.contact (channel, summary, status, occurred_at, call_id, recording_key, caller_number)"
            " FROM STDIN"
        ) as copy:
            for key in keys:
                copy.write_row(("phone", "Inbound call", "new", started_at, f"{uuid.uuid4()}@bench", key, ""))
    with grpcio.blocking_channel(env["CRS_CONTACTS_GRPC"]) as chan:
        rights = rights_pb2_grpc.ConsumerRightsStub(chan)
        rights.PutRetentionPolicy(rights_pb2.RetentionPolicy(kind="recordings", days=30), timeout=10)
        removed, began = 0, time.perf_counter()
        while True:
            swept = rights.RunRetentionSweep(rights_pb2.RunRetentionSweepRequest(), timeout=300)
            if not swept.removed.get("recordings"):
                break
            removed += swept.removed["recordings"]
        elapsed = time.perf_counter() - began
        rights.PutRetentionPolicy(rights_pb2.RetentionPolicy(kind="recordings", days=0), timeout=10)
    require(removed >= count, f"the sweep removed {removed} of {count}")
    require(not any(store.exists(k) for k in keys), "expired recordings left in the store")
    return removed / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--erasures", type=int, default=5)
    args = parser.parse_args()
    tls.set_identity("console")
    consumers, expired = (100_000, 10_000) if args.quick else (1_000_000, 100_000)
    url = bench_database(f"crs_bench_{consumers}", consumers)
    print(f"machine: {machine()}; {consumers:,} consumers; load average {os.getloadavg()[0]:.1f}", flush=True)
    vhost = infra.unique_name("crs-bench-erasure")
    amqp_url = infra.create_vhost(vhost)
    store = LocalDirectoryStore(tempfile.mkdtemp(prefix="crs-bench-erasure-"))
    telephony, telephony_port = telephony_privacy(store)
    ports = {name: free_port() for name in ("contacts", "billing", "fulfillment", "screenpop")}
    env = dict(
        os.environ,
        CRS_DATABASE_URL=url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="WARNING",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}",
        CRS_TELEPHONY_GRPC=f"127.0.0.1:{telephony_port}",
        CRS_ERASURE_RETRY_SECONDS="1",
        CRS_RETENTION_SWEEP_SECONDS="0",
        **{f"CRS_{name.upper()}_GRPC": f"127.0.0.1:{port}" for name, port in ports.items()},
        **{f"CRS_{name.upper()}_METRICS_PORT": "0" for name in ports},
    )
    started: list[ServiceProcess] = []
    try:
        for name in ("billing", "fulfillment", "screenpop", "contacts"):
            started.append(ServiceProcess(f"services.{name}", env).start(wait_port=ports[name]))
        samples = []
        for n in range(args.erasures):
            consumer_id, keys = seed_consumer(env, url, store, n)
            samples.append(time_erasure(env, consumer_id, keys, store))
        erasure = percentiles(samples, what="erasures")
        rate = sweep_rate(env, url, store, expired)
    finally:
        stop_all(started)
        telephony.stop(0)
        infra.delete_vhost(vhost)
    print(
        f"| erasure of one consumer ({CASES} cases, {CALLS} recordings), time to the receipt | p50 ms | max ms |"
    )
    print("|---|---|---|")
    print(f"| {args.erasures} erasures | {erasure['p50']:.0f} | {erasure['max']:.0f} |")
    print(f"retention sweep over {expired:,} expired recordings: {rate:,.0f} recordings/s")
    return 0


if __name__ == "__main__":
    run_bench(main)
