"""Auto-approved coupons through the worker to completion: fulfillments per second, and request → issued.

    .venv/bin/python bench/fulfillment.py            # 2,000 coupons
    .venv/bin/python bench/fulfillment.py --quick    # 300 coupons
    .venv/bin/python bench/fulfillment.py --workers 2  # two worker processes sharing the queue

It creates a throwaway database and vhost, starts `python -m services.fulfillment` (API and relay) and
`python -m services.fulfillment.worker` as real processes, answers contacts' GetCase and GetConsumer from
a stand-in in this process (a new consumer per case, so no fraud limit is hit), sends the requests from
`--concurrency` client threads, and waits until every coupon is delivered. Issue 14's target: at least
200/s and p99 request → issued at most 200 ms.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
import time
import uuid
from concurrent import futures

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import psycopg  # noqa: E402
from crs.common.v1 import money_pb2  # noqa: E402
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2, contacts_pb2_grpc  # noqa: E402
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc  # noqa: E402

from bench._common import free_port, machine, percentiles, run_bench  # noqa: E402
from services.runtime import migrate  # noqa: E402
from services.runtime.grpcio import blocking_channel, server_credentials  # noqa: E402
from services.runtime.principal import Principal  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.processes import ServiceProcess  # noqa: E402
from tests.support.wait import wait_for  # noqa: E402

NAMESPACE = uuid.UUID("5b3c2a10-7d5e-4c1b-9f0a-2e6d8c4b1a77")
AGENT = Principal("bench", "agent")


class StandIn(casework_pb2_grpc.CaseworkServicer, contacts_pb2_grpc.ContactsServicer):
    """Every case has its own consumer with its own number."""

    def GetCase(self, request, context):
        return casework_pb2.Case(id=request.id, consumer_id=str(uuid.uuid5(NAMESPACE, request.id)))

    def GetConsumer(self, request, context):
        number = "+1555" + str(uuid.UUID(request.id).int % 10**7).zfill(7)
        return contacts_pb2.Consumer(
            id=request.id, name="Bench", phones=[contacts_pb2.PhoneNumber(number=number)]
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the queue")
    args = parser.parse_args()
    count = 300 if args.quick else 2000
    print(f"machine: {machine()}")

    db_name, vhost = infra.unique_name("crs_bench_fulfil"), infra.unique_name("crs-bench-fulfil")
    database_url, amqp_url = infra.create_database(db_name), infra.create_vhost(vhost)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    stand_in = StandIn()
    casework_pb2_grpc.add_CaseworkServicer_to_server(stand_in, server)
    contacts_pb2_grpc.add_ContactsServicer_to_server(stand_in, server)
    contacts_port = server.add_secure_port("127.0.0.1:0", server_credentials())
    server.start()
    processes: list[ServiceProcess] = []
    try:
        migrate.migrate_all(database_url)
        api_port, worker_metrics = free_port(), free_port()
        env = {
            **os.environ,
            "CRS_DATABASE_URL": database_url,
            "CRS_AMQP_URL": amqp_url,
            "CRS_LOG_LEVEL": "WARNING",
            # The bench's client carries the agent's principal as the command line does.
            "CRS_PRINCIPAL_ISSUERS": "console,cli",
            "CRS_FULFILLMENT_GRPC": f"127.0.0.1:{api_port}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{contacts_port}",
            "CRS_FULFILLMENT_METRICS_PORT": "0",
            "CRS_FULFILLMENT_WORKER_METRICS_PORT": str(worker_metrics),
        }
        processes.append(ServiceProcess("services.fulfillment", env).start(wait_port=api_port))
        for n in range(args.workers):
            port = worker_metrics if n == 0 else free_port()
            worker_env = {**env, "CRS_FULFILLMENT_WORKER_METRICS_PORT": str(port)}
            processes.append(ServiceProcess("services.fulfillment.worker", worker_env).start(wait_port=port))
        from tests.integration.fulfillment.conftest import WORKER_QUEUE, queue_exists

        wait_for(lambda: queue_exists(amqp_url, WORKER_QUEUE), timeout=30, what="the worker's queue")
        stub = fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(env["CRS_FULFILLMENT_GRPC"]))
        request_ms: list[float] = []
        lock = threading.Lock()

        def ask(_):
            started = time.perf_counter()
            stub.RequestFulfillment(
                fulfillment_pb2.RequestFulfillmentRequest(
                    case_id=str(uuid.uuid4()),
                    kind="coupon",
                    value=money_pb2.Money(currency="USD", amount_minor=100),
                ),
                metadata=AGENT.metadata(),
                timeout=10,
            )
            with lock:
                request_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        with futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(ask, range(count)))
        with psycopg.connect(database_url) as conn:

            def delivered() -> bool:
                (done,) = conn.execute(
                    "SELECT count(*) FROM fulfillment.fulfillment WHERE state = 'delivered'"
                ).fetchone()
                conn.commit()
                return done == count

            wait_for(delivered, timeout=600, interval=0.05, what="every coupon delivered")
            elapsed = time.perf_counter() - started
            issued_ms = [
                row[0]
                for row in conn.execute(
                    "SELECT extract(epoch FROM c.issued_at - f.created_at) * 1000"
                    " FROM fulfillment.coupon c JOIN fulfillment.fulfillment f ON f.id = c.fulfillment_id"
                ).fetchall()
            ]
            # Where the time goes: waiting for a worker (approved → the worker's first step began) and the
            # worker's own two steps (first step began → second step began), from the timeline's clocks.
            waited, stepped = zip(
                *conn.execute(
                    "SELECT extract(epoch FROM i.occurred_at - a.occurred_at) * 1000,"
                    " extract(epoch FROM d.occurred_at - i.occurred_at) * 1000"
                    " FROM fulfillment.fulfillment_step a"
                    " JOIN fulfillment.fulfillment_step i ON i.fulfillment_id = a.fulfillment_id"
                    "  AND i.state = 'in_progress'"
                    " JOIN fulfillment.fulfillment_step d ON d.fulfillment_id = a.fulfillment_id"
                    "  AND d.state = 'delivered'"
                    " WHERE a.state = 'approved'"
                ).fetchall(),
                strict=True,
            )
        print(
            f"{count} coupons, {args.concurrency} clients, {args.workers} worker(s):"
            f" {count / elapsed:.0f} fulfillments/s to delivered"
        )
        for label, samples in (
            ("approved → worker's issue step", waited),
            ("issue step → send step (0 when one transaction did both)", stepped),
        ):
            print(
                f"{label} (ms): "
                + "  ".join(f"{k}={v:.1f}" for k, v in percentiles([float(x) for x in samples]).items())
            )
        print(
            "RequestFulfillment (ms): "
            + "  ".join(f"{k}={v:.1f}" for k, v in percentiles(request_ms).items())
        )
        print(
            "request → issued (ms):   "
            + "  ".join(f"{k}={v:.1f}" for k, v in percentiles([float(x) for x in issued_ms]).items())
        )
        return 0
    finally:
        for process in reversed(processes):
            process.stop()
        server.stop(0)
        infra.drop_database(db_name)
        infra.delete_vhost(vhost)


if __name__ == "__main__":
    run_bench(main)
