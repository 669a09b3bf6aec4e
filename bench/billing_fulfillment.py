"""GetAccountSummary and GetPurchaseHistory over gRPC against bulk-seeded data: p50 and p99.

    .venv/bin/python bench/billing_fulfillment.py            # 1,000,000 consumers (seeding takes minutes)
    .venv/bin/python bench/billing_fulfillment.py --quick    # 20,000 consumers, fewer calls

It creates a throwaway database, seeds it with `seed_bulk`, starts `python -m services.billing` and
`python -m services.fulfillment` as real processes, and calls them from one asyncio client. The client
asks both at once per round, as screenpop does on each ringing call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from crs.billing.v1 import billing_pb2, billing_pb2_grpc  # noqa: E402
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc  # noqa: E402

from services.billing import seed as billing_seed  # noqa: E402
from services.cli.seed import BULK_OFFSET, consumer_id  # noqa: E402
from services.fulfillment import seed as fulfillment_seed  # noqa: E402
from services.runtime import migrate  # noqa: E402
from services.runtime.grpcio import channel  # noqa: E402
from tests.support import infra  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def report(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<34} n={len(ms):>6}  p50={statistics.median(ms):6.2f} ms  "
        f"p99={percentile(ms, 0.99):6.2f} ms  max={max(ms):6.2f} ms"
    )


async def wait_serving(stub_call) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            await stub_call()
            return
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def measure(billing_target: str, fulfillment_target: str, ids: list[str], calls: int) -> None:
    billing_chan, fulfillment_chan = channel(billing_target), channel(fulfillment_target)
    billing = billing_pb2_grpc.BillingStub(billing_chan)
    fulfillment = fulfillment_pb2_grpc.FulfillmentStub(fulfillment_chan)
    rng = random.Random(7)

    def summary(cid):
        return billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=cid), timeout=1.0)

    def history(cid):
        return fulfillment.GetPurchaseHistory(
            fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=cid, last_orders=5, top_products=5),
            timeout=1.0,
        )

    await wait_serving(lambda: summary(ids[0]))
    await wait_serving(lambda: history(ids[0]))
    for _ in range(200):  # warm the channels, pools and prepared statements
        await asyncio.gather(summary(rng.choice(ids)), history(rng.choice(ids)))

    results: dict[str, list[float]] = {
        "GetAccountSummary": [],
        "GetPurchaseHistory": [],
        "both in parallel": [],
    }
    for _ in range(calls):
        cid = rng.choice(ids)
        started = time.perf_counter()
        await summary(cid)
        results["GetAccountSummary"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await history(cid)
        results["GetPurchaseHistory"].append(time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(summary(cid), history(cid))
        results["both in parallel"].append(time.perf_counter() - started)
    for name, samples in results.items():
        report(name, samples)
    await billing_chan.close()
    await fulfillment_chan.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 consumers and 500 calls")
    parser.add_argument("--consumers", type=int, default=0)
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--database-url", help="an already seeded database (skips creating and seeding)")
    args = parser.parse_args()
    consumers = args.consumers or (20_000 if args.quick else 1_000_000)
    calls = args.calls or (500 if args.quick else 5_000)
    ids = [consumer_id(BULK_OFFSET + i) for i in range(consumers)]

    name = None
    url = args.database_url
    if url is None:
        name = infra.unique_name("crs_bench")
        url = infra.create_database(name)
    processes: list[subprocess.Popen] = []
    try:
        if name is not None:
            migrate.migrate_all(url)
            for label, seeder in (("billing", billing_seed), ("fulfillment", fulfillment_seed)):
                started = time.perf_counter()
                seeder.seed_bulk(url, ids)
                print(f"seeded {label} for {consumers:,} consumers in {time.perf_counter() - started:.1f}s")
        ports = {"billing": free_port(), "fulfillment": free_port()}
        env = dict(os.environ, CRS_DATABASE_URL=url, CRS_LOG_LEVEL="WARNING")
        for service, port in ports.items():
            env[f"CRS_{service.upper()}_GRPC"] = f"127.0.0.1:{port}"
            env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
        env.setdefault("CRS_AMQP_URL", infra.BROKER_URL)
        for service in ports:
            processes.append(
                subprocess.Popen([sys.executable, "-m", f"services.{service}"], env=env, cwd=ROOT)
            )
        asyncio.run(measure(f"127.0.0.1:{ports['billing']}", f"127.0.0.1:{ports['fulfillment']}", ids, calls))
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if name is not None:
            infra.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
