"""GetAccountSummary and GetPurchaseHistory over gRPC against bulk-seeded data: p50 and p99.

    .venv/bin/python bench/billing_fulfillment.py            # 1,000,000 consumers (seeding takes minutes)
    .venv/bin/python bench/billing_fulfillment.py --quick    # 20,000 consumers, fewer calls

It creates a throwaway database, seeds it with `seed_bulk`, starts `python -m services.billing` and
`python -m services.fulfillment` as real processes, and calls them from one asyncio client. The client
asks both at once per round, as screenpop does on each ringing call.

Every reply is checked against the database: an account where the consumer has one, orders where the
consumer bought something; one wrong reply fails the run. `seed_bulk` gives 60 % of consumers an account
and about half of them orders, and a consumer with no data is the cheap path, so the figures are printed
for every call and again for the calls whose consumer had data, with the share that did.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import psycopg  # noqa: E402
from crs.billing.v1 import billing_pb2, billing_pb2_grpc  # noqa: E402
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc  # noqa: E402

from bench._common import free_port, percentiles, require, run_bench, share  # noqa: E402
from services.billing import seed as billing_seed  # noqa: E402
from services.cli.seed import BULK_OFFSET, consumer_id  # noqa: E402
from services.fulfillment import seed as fulfillment_seed  # noqa: E402
from services.runtime import migrate  # noqa: E402
from services.runtime.grpcio import channel  # noqa: E402
from tests.support import infra  # noqa: E402


def report(name: str, samples: list[float]) -> None:
    figures = percentiles([s * 1000 for s in samples], what=name)
    print(
        f"{name:<58} n={len(samples):>6}  p50={figures['p50']:6.2f} ms  "
        f"p99={figures['p99']:6.2f} ms  max={figures['max']:6.2f} ms"
    )


def who_has_data(url: str, ids: list[str]) -> tuple[set[str], set[str]]:
    """The consumers among `ids` with an account, and those with at least one order, from the database."""
    with psycopg.connect(url) as conn:
        accounts = {c for (c,) in conn.execute(
            "SELECT consumer_id::text FROM billing.account WHERE consumer_id = ANY(%s::uuid[])", (ids,)
        )}  # fmt: skip
        buyers = {c for (c,) in conn.execute(
            "SELECT DISTINCT consumer_id::text FROM fulfillment.orders WHERE consumer_id = ANY(%s::uuid[])", (ids,)
        )}  # fmt: skip
    return accounts, buyers


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


async def measure(
    billing_target: str, fulfillment_target: str, ids: list[str], calls: int, data: tuple[set[str], set[str]]
) -> None:
    accounts, buyers = data
    wrong: list[str] = []

    def check(cid, summary_reply, history_reply) -> bool:
        """Whether the consumer had data; a reply that disagrees with the database is noted as wrong."""
        if summary_reply.consumer_id != cid or summary_reply.has_account != (cid in accounts):
            wrong.append(f"GetAccountSummary({cid}): has_account={summary_reply.has_account}")
        if history_reply.consumer_id != cid or bool(history_reply.orders) != (cid in buyers):
            wrong.append(f"GetPurchaseHistory({cid}): {len(history_reply.orders)} orders")
        return summary_reply.has_account or bool(history_reply.orders)

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

    names = ("GetAccountSummary", "GetPurchaseHistory", "both in parallel")
    every: dict[str, list[float]] = {name: [] for name in names}
    with_data: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(calls):
        cid = rng.choice(ids)
        started = time.perf_counter()
        summary_reply = await summary(cid)
        took = [time.perf_counter() - started]
        started = time.perf_counter()
        history_reply = await history(cid)
        took.append(time.perf_counter() - started)
        started = time.perf_counter()
        both = await asyncio.gather(summary(cid), history(cid))
        took.append(time.perf_counter() - started)
        had_data = check(cid, summary_reply, history_reply)
        check(cid, *both)
        for name, seconds in zip(names, took, strict=True):
            every[name].append(seconds)
            if had_data:
                with_data[name].append(seconds)
    require(not wrong, f"{len(wrong)} wrong replies, e.g. {wrong[:3]}")
    print(
        f"calls whose consumer had an account or orders: {share(len(with_data[names[0]]), calls)};"
        f" every reply checked against the database"
    )
    for name in names:
        report(name, every[name])
    for name in names:
        report(f"{name}, consumer with data", with_data[name])
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
        data = who_has_data(url, ids)
        asyncio.run(
            measure(f"127.0.0.1:{ports['billing']}", f"127.0.0.1:{ports['fulfillment']}", ids, calls, data)
        )
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
    run_bench(main)
