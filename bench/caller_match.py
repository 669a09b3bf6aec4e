"""MatchCaller at scale: p50/p99 and calls/s over gRPC and in the database, with 1,000,000 consumers.

.venv/bin/python bench/caller_match.py            # 1,000,000 consumers, 20,000 lookups
.venv/bin/python bench/caller_match.py --quick    # 100,000 consumers, 2,000 lookups
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import psycopg
from crs.contacts.v1 import contacts_pb2 as pb
from crs.contacts.v1 import contacts_pb2_grpc

from bench._common import bench_database, free_port, machine, percentiles, wait_for_port
from services.contacts.consumers import phones
from services.contacts.consumers.store import _HITS_SQL
from services.runtime import grpcio
from services.runtime.db import connection_options


def sample_numbers(url: str, count: int) -> list[str]:
    """Numbers of seeded consumers, each written the way a network might deliver it."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e164 FROM contacts.phone_number TABLESAMPLE SYSTEM (2) LIMIT %s", (count,)
        ).fetchall()
    rng = random.Random(7)
    spelled = []
    for (e164,) in rows:
        kind = rng.random()
        if kind < 0.6 or not e164.startswith("+1"):
            spelled.append(e164)
        elif kind < 0.8:
            spelled.append(f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}")
        else:
            spelled.append(e164[2:])
    # One lookup in ten is a caller nobody knows.
    spelled += [f"+1614{rng.randint(2000000, 9999999)}" for _ in range(count // 10)]
    rng.shuffle(spelled)
    return spelled


def database_latency(url: str, numbers: list[str]) -> tuple[dict, float]:
    """The matching query alone, prepared, one at a time on one connection."""
    samples = []
    with psycopg.connect(url, options=connection_options("contacts"), prepare_threshold=0) as conn:
        started = time.perf_counter()
        for written in numbers:
            number = phones.parse(written, "US")
            t0 = time.perf_counter()
            conn.execute(
                _HITS_SQL,
                {
                    "e164": number.e164,
                    "national": number.national_number,
                    "suffix": number.suffix,
                    "use_suffix": True,
                    "limit": 30,
                },
            ).fetchall()
            samples.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
    return percentiles(samples), len(numbers) / elapsed


async def grpc_latency(target: str, numbers: list[str], concurrency: int) -> tuple[dict, float]:
    async with grpcio.channel(target) as channel:
        stub = contacts_pb2_grpc.ContactsStub(channel)
        for number in numbers[:200]:  # warm the pool, the caches and the channel
            await stub.MatchCaller(pb.MatchCallerRequest(number=number, region="US"), timeout=2)
        samples: list[float] = []
        queue = list(numbers)

        async def worker():
            while queue:
                number = queue.pop()
                t0 = time.perf_counter()
                await stub.MatchCaller(pb.MatchCallerRequest(number=number, region="US"), timeout=2)
                samples.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return percentiles(samples), len(numbers) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    consumers, lookups = (100_000, 2_000) if args.quick else (1_000_000, 20_000)
    url = bench_database(f"crs_bench_{consumers}", consumers)
    numbers = sample_numbers(url, lookups)
    print(f"machine: {machine()}; {consumers:,} consumers; {len(numbers):,} lookups", flush=True)

    db_stats, db_rate = database_latency(url, numbers)
    port = free_port()
    env = dict(
        os.environ,
        CRS_DATABASE_URL=url,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{port}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}",
        CRS_CONTACTS_METRICS_PORT="0",
        CRS_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen([sys.executable, "-m", "services.contacts"], env=env)
    try:
        wait_for_port(port)
        one_stats, one_rate = asyncio.run(grpc_latency(f"127.0.0.1:{port}", numbers, concurrency=1))
        many_stats, many_rate = asyncio.run(grpc_latency(f"127.0.0.1:{port}", numbers, concurrency=16))
    finally:
        server.terminate()
        server.wait(15)

    def row(label, stats, rate):
        return f"| {label} | {stats['p50']:.2f} | {stats['p99']:.2f} | {stats['max']:.1f} | {rate:,.0f} |"

    print("| path | p50 ms | p99 ms | max ms | calls/s |")
    print("|---|---|---|---|---|")
    print(row("database: matching query, one connection", db_stats, db_rate))
    print(row("gRPC MatchCaller, 1 in flight", one_stats, one_rate))
    print(row("gRPC MatchCaller, 16 in flight", many_stats, many_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
