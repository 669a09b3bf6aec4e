"""MatchCaller at scale: p50/p99 and calls/s over gRPC and in the database, with 1,000,000 consumers.

.venv/bin/python bench/caller_match.py            # 1,000,000 consumers, 20,000 lookups
.venv/bin/python bench/caller_match.py --quick    # 100,000 consumers, 2,000 lookups

Every reply is checked: a seeded caller must come back as an exact match on its own number, an unknown
one with no exact match; one wrong reply fails the run. The share of lookups that found someone is
printed with the figures.
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
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import psycopg
from crs.contacts.v1 import contacts_pb2 as pb
from crs.contacts.v1 import contacts_pb2_grpc

from bench._common import (
    bench_database,
    free_port,
    machine,
    percentiles,
    require,
    run_bench,
    share,
    wait_for_port,
)
from services.contacts.consumers import phones
from services.contacts.consumers.store import _HITS_SQL
from services.runtime import grpcio
from services.runtime.db import connection_options


@dataclass(frozen=True)
class Lookup:
    written: str  # as the network delivered it
    e164: str
    known: bool  # a seeded consumer has this number


@dataclass
class Replies:
    """What the replies held: how many found someone, and which were wrong."""

    found: int = 0
    wrong: list[str] | None = None

    def check(self, lookup: Lookup, exact_numbers: list[str], found_anyone: bool) -> None:
        self.found += found_anyone
        if (lookup.e164 in exact_numbers) != lookup.known:
            self.wrong = (self.wrong or []) + [f"{lookup.written}: exact matches {exact_numbers}"]

    def verdict(self, what: str, lookups: int) -> str:
        require(
            not self.wrong, f"{what}: {len(self.wrong or [])} wrong replies, e.g. {(self.wrong or [''])[0]}"
        )
        return f"found someone for {share(self.found, lookups)}"


def sample_numbers(url: str, count: int) -> list[Lookup]:
    """Numbers of seeded consumers, each written the way a network might deliver it; one in ten unknown."""
    rng = random.Random(7)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e164 FROM contacts.phone_number TABLESAMPLE SYSTEM (2) LIMIT %s", (count,)
        ).fetchall()
        unknown = {f"+1614{rng.randint(2000000, 9999999)}" for _ in range(count // 10)}
        listed = {e for (e,) in conn.execute(
            "SELECT e164 FROM contacts.phone_number WHERE e164 = ANY(%s)", (list(unknown),)
        )}  # fmt: skip
    lookups = []
    for (e164,) in rows:
        kind = rng.random()
        if kind < 0.6 or not e164.startswith("+1"):
            written = e164
        elif kind < 0.8:
            written = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
        else:
            written = e164[2:]
        lookups.append(Lookup(written, e164, known=True))
    lookups += [Lookup(e164, e164, known=e164 in listed) for e164 in sorted(unknown)]
    rng.shuffle(lookups)
    return lookups


def database_latency(url: str, numbers: list[Lookup]) -> tuple[dict, float, str]:
    """The matching query alone, prepared, one at a time on one connection."""
    samples = []
    replies = Replies()
    with psycopg.connect(url, options=connection_options("contacts"), prepare_threshold=0) as conn:
        started = time.perf_counter()
        for lookup in numbers:
            number = phones.parse(lookup.written, "US")
            t0 = time.perf_counter()
            hits = conn.execute(
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
            replies.check(lookup, [e164 for _, kind, e164, *_ in hits if kind == 1], bool(hits))
        elapsed = time.perf_counter() - started
    found = replies.verdict("database", len(numbers))
    return percentiles(samples, what="database lookups"), len(numbers) / elapsed, found


EXACT = pb.MatchKind.MATCH_KIND_EXACT


async def grpc_latency(target: str, numbers: list[Lookup], concurrency: int) -> tuple[dict, float, str]:
    async with grpcio.channel(target) as channel:
        stub = contacts_pb2_grpc.ContactsStub(channel)
        for lookup in numbers[:200]:  # warm the pool, the caches and the channel
            await stub.MatchCaller(pb.MatchCallerRequest(number=lookup.written, region="US"), timeout=2)
        samples: list[float] = []
        replies = Replies()
        queue = list(numbers)

        async def worker():
            while queue:
                lookup = queue.pop()
                t0 = time.perf_counter()
                reply = await stub.MatchCaller(
                    pb.MatchCallerRequest(number=lookup.written, region="US"), timeout=2
                )
                samples.append((time.perf_counter() - t0) * 1000)
                exact = [c.matched_number for c in reply.candidates if c.match == EXACT]
                if reply.number_e164 != lookup.e164:
                    exact = [f"the number came back as {reply.number_e164!r}"]
                replies.check(lookup, exact, bool(reply.candidates))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    found = replies.verdict(f"gRPC, {concurrency} in flight", len(numbers))
    return percentiles(samples, what=f"gRPC lookups, {concurrency} in flight"), len(numbers) / elapsed, found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    consumers, lookups = (100_000, 2_000) if args.quick else (1_000_000, 20_000)
    url = bench_database(f"crs_bench_{consumers}", consumers)
    numbers = sample_numbers(url, lookups)
    print(f"machine: {machine()}; {consumers:,} consumers; {len(numbers):,} lookups", flush=True)

    db_stats, db_rate, db_found = database_latency(url, numbers)
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
        one_stats, one_rate, one_found = asyncio.run(
            grpc_latency(f"127.0.0.1:{port}", numbers, concurrency=1)
        )
        many_stats, many_rate, many_found = asyncio.run(
            grpc_latency(f"127.0.0.1:{port}", numbers, concurrency=16)
        )
    finally:
        server.terminate()
        server.wait(15)

    def row(label, stats, rate, found):
        return f"| {label} | {stats['p50']:.2f} | {stats['p99']:.2f} | {stats['max']:.1f} | {rate:,.0f} | {found} |"

    known = sum(lookup.known for lookup in numbers)
    print(f"lookups of a seeded consumer's number: {share(known, len(numbers))}; every reply checked")
    print("| path | p50 ms | p99 ms | max ms | calls/s | replies |")
    print("|---|---|---|---|---|---|")
    print(row("database: matching query, one connection", db_stats, db_rate, db_found))
    print(row("gRPC MatchCaller, 1 in flight", one_stats, one_rate, one_found))
    print(row("gRPC MatchCaller, 16 in flight", many_stats, many_rate, many_found))
    return 0


if __name__ == "__main__":
    run_bench(main)
