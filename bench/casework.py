"""Casework: contact intake through the REST API (durable, with its outbox event) against the raw
single-row INSERT rate of the same PostgreSQL, and search latency over many contacts seeded with COPY.

.venv/bin/python bench/casework.py            # 20,000 intakes; search over 1,000,000 contacts
.venv/bin/python bench/casework.py --quick    # 3,000 intakes; search over 100,000 contacts
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

import aiohttp
import psycopg

from bench._common import free_port, machine, percentiles, run_bench, share, wait_for_port
from services.runtime import console_tokens, migrate
from tests.support import infra

WORDS = (
    "plastic piece bowl cereal sharp blue found box bottle leaked cupboard mould green smell taste strange "
    "texture soggy crunchy label torn seal broken child sick stomach allergic rash coupon refund store "
    "bought yesterday morning opened lid metal glass insect hair"
).split()
CODES = [
    "complaint.quality.foreign_object.plastic",
    "complaint.packaging.leaking",
    "complaint.quality.taste_odour",
    "question.where_to_buy",
    "compliment.product",
    "complaint.quality.mould_spoilage",
    "suggestion.product",
]
SKUS = [f"SKU-{i:04d}" for i in range(500)]
CONCURRENCY = 32


def verbatim(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))


async def raw_insert_rate(url: str, count: int) -> float:
    """Single-row INSERTs, each its own transaction, from CONCURRENCY connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_raw (id bigserial PRIMARY KEY, body text NOT NULL)"
        )
    connections = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(CONCURRENCY)]
    per = count // CONCURRENCY

    async def worker(conn):
        for _ in range(per):
            await conn.execute("INSERT INTO public.bench_raw (body) VALUES (%s)", ("x" * 200,))

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    return per * CONCURRENCY / elapsed


async def intake_rate(base: str, token: str, count: int) -> float:
    rng = random.Random(1)
    bodies = [
        {
            "issue_code": rng.choice(CODES[:3]),
            "channel": "email",
            "verbatim": verbatim(rng),
            "product": {"sku": rng.choice(SKUS), "lot_code": f"L{rng.randint(1, 400)}"},
        }
        for _ in range(count)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def post(body):
            async with session.post(base + "/api/contacts", json=body) as response:
                assert response.status == 201, await response.text()
                await response.read()

        for body in bodies[:100]:  # warm up
            await post(body)
        queue = list(bodies[100:])
        started = time.perf_counter()

        async def worker():
            while queue:
                await post(queue.pop())

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return (count - 100) / (time.perf_counter() - started)


def seed_contacts(url: str, count: int) -> float:
    rng = random.Random(2)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path TO contacts")
        with conn.cursor().copy(
            "COPY contact (channel, status, issue_code, severity, verbatim, language, search_config, product_sku,"
            " lot_code, occurred_at, created_at, summary) FROM STDIN"
        ) as copy:
            for _ in range(count):
                code = rng.choice(CODES)
                when = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00+00"
                copy.write_row(
                    (
                        "email",
                        rng.choice(["new", "in_progress", "resolved", "closed"]),
                        code,
                        "medium",
                        verbatim(rng),
                        "en",
                        "english",
                        rng.choice(SKUS),
                        f"L{rng.randint(1, 400)}",
                        when,
                        when,
                        code,
                    )
                )
        conn.execute("ANALYZE contact")
        conn.commit()
    return time.perf_counter() - started


async def search_latency(base: str, token: str, queries: int) -> dict[str, tuple[dict[str, float], str]]:
    rng = random.Random(3)
    kinds = {
        "text": lambda: {"text": " ".join(rng.sample(WORDS, 2))},
        "text + product": lambda: {"text": rng.choice(WORDS), "product": rng.choice(SKUS)},
        "code + dates": lambda: {
            "issue_code": "complaint.quality",
            "from": "2024-03-01T00:00:00Z",
            "to": "2024-04-01T00:00:00Z",
        },
        "sku + lot": lambda: {"product": rng.choice(SKUS), "lot_code": f"L{rng.randint(1, 400)}"},
    }
    results = {}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        for name, make in kinds.items():
            samples, found = [], 0
            for i in range(queries + 20):
                started = time.perf_counter()
                async with session.get(base + "/api/contacts", params=make()) as response:
                    assert response.status == 200, await response.text()
                    cases = (await response.json())["cases"]
                if i >= 20:
                    samples.append((time.perf_counter() - started) * 1000)
                    found += bool(cases)
            results[name] = (percentiles(samples, what=f"search [{name}]"), share(found, queries))
    return results


def start_contacts(env: dict, http_port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "services.contacts"], env=env)
    wait_for_port(http_port)
    return process


async def main_async() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    intakes, seeded, queries = (3_000, 100_000, 200) if args.quick else (20_000, 1_000_000, 1_000)
    print(machine(), flush=True)
    name = infra.unique_name("crs_bench_casework")
    url = infra.create_database(name)
    vhost = infra.unique_name("crs-bench")
    amqp_url = infra.create_vhost(vhost)
    process = None
    try:
        migrate.migrate_all(url)
        http_port = free_port()
        env = {
            **os.environ,
            "CRS_DATABASE_URL": url,
            "CRS_AMQP_URL": amqp_url,
            "CRS_LOG_LEVEL": "WARNING",
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{http_port}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_CONTACTS_METRICS_PORT": "0",
        }
        process = start_contacts(env, http_port)
        base = f"http://127.0.0.1:{http_port}"
        token = console_tokens.mint(
            secret=console_tokens.secret_from_env(), username="bench", display_name="bench", role="agent"
        )
        raw = await raw_insert_rate(url, intakes)
        api = await intake_rate(base, token, intakes)
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            while conn.execute("SELECT count(*) FROM contacts.outbox").fetchone()[0]:
                await asyncio.sleep(0.05)
                conn.commit()
            drained = time.perf_counter() - started
        print(f"raw single-row INSERT ({CONCURRENCY} connections): {raw:,.0f}/s")
        print(
            f"intake through the REST API ({CONCURRENCY} in flight, durable, with its event): {api:,.0f}/s"
            f" = {api / raw:.2f}x raw; outbox drained {drained:.1f}s after the last intake"
        )
        took = seed_contacts(url, seeded)
        print(f"seeded {seeded:,} contacts with COPY in {took:.0f}s")
        for kind, (figures, found) in (await search_latency(base, token, queries)).items():
            print(
                f"search [{kind}] over {seeded:,}: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms,"
                f" max {figures['max']:.1f} ms; found cases for {found} of the queries"
            )
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
        infra.drop_database(name)
        infra.delete_vhost(vhost)


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    run_bench(main)
