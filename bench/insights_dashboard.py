"""The dashboard's queries at 10,000,000 contacts, in PostgreSQL: contact cells for a year of contacts drawn
as bench/insights_recompute.py draws them (per product, region, code, channel and day) are copied into the
insights schema of a database of its own (`crs_scale_bench`, dropped after), with the sales, and the use
cases the console calls are timed through the SQL store: volumes by each dimension, the rising issues and
one product's CPMU trend. The contacts themselves are not loaded (the slice drill-down is not timed).

    python -m bench.insights_dashboard [--contacts 10000000] [--products 500] [--runs 20] [--latency]

`--latency` instead times one contact recorded and the recompute after it (a first recompute has stored
the alerts), in process: the contact-to-alert time without the bus and its quiet-bus wait.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from bench._common import machine, percentiles, run_bench
from bench.insights_recompute import CODES, REGIONS, TODAY, WEEKS, day_counts
from services.insights.service import Insights, Received
from services.insights.store import SqlStore
from services.runtime import migrate
from services.runtime.db import open_pool
from tests.support.infra import ADMIN_DATABASE_URL, with_path

DATABASE = "crs_scale_bench"


def load(url: str, contacts: int, products: int, seed: int) -> int:
    sales, counts, web = day_counts(contacts, products, seed)
    first = TODAY - timedelta(weeks=WEEKS)
    days = [first + timedelta(days=d) for d in range(WEEKS * 7)]
    weeks = [d - timedelta(days=d.weekday()) for d in days]
    rows = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY insights.sales (sku, lot_code, region, period_start, period_end, units, source,"
                      " imported_by) FROM STDIN") as copy:  # fmt: skip
            for s in sales:
                copy.write_row(
                    (s.sku, s.lot_code, s.region, s.period_start, s.period_end, s.units, "bench", "bench")
                )
        columns = "sku, lot_code, region, issue_code, channel, received_on, week, contacts, weight"
        with cur.copy(f"COPY insights.contact_cell ({columns}) FROM STDIN") as copy:
            for channel, held in (("phone", counts - web), ("web", web)):
                weight = 1.0 if channel == "phone" else 0.25
                for p, r, c, d in zip(*np.nonzero(held), strict=True):
                    n = int(held[p, r, c, d])
                    copy.write_row((f"SKU-{p}", f"L{d // 28}", REGIONS[r], CODES[c], channel, days[d], weeks[d], n,
                                    n * weight))  # fmt: skip
                    rows += 1
        cur.execute("ANALYZE insights.contact_cell")
    return rows


async def timed(runs: int, call) -> dict:
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        await call()
        walls.append(1000 * (time.perf_counter() - started))
        cpus.append(1000 * (time.process_time() - cpu))
    found = percentiles(walls, what="queries")
    return {**found, "cpu": sorted(cpus)[len(cpus) // 2]}


async def latency(insights: Insights) -> None:
    """A contact recorded, then the recompute that follows it (after a first one has stored the alerts):
    the contact-to-alert time but for the quiet-bus wait."""
    started = time.perf_counter()
    await insights.recompute()
    print(f"first recompute (stores every alert): {time.perf_counter() - started:.1f} s")
    case = {
        "id": str(uuid.uuid4()), "consumer_id": "c", "channel": "phone", "version": 1,
        "product": {"sku": "SKU-7", "lot_code": "L12", "purchase_location": "Springfield, IL"},
        "issue_code": CODES[0], "occurred_at": f"{TODAY.isoformat()}T10:00:00Z",
        "created_at": f"{TODAY.isoformat()}T10:05:00Z",
    }  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    await insights.take(
        Received(str(uuid.uuid4()), "contacts", "contact_created", datetime.now(UTC), {"case": case})
    )
    await insights.recompute()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"contact recorded to recompute done: {wall:.1f} s (bench process CPU {used:.1f} s)")


async def measure(url: str, runs: int, only_latency: bool) -> None:
    pool = await open_pool(url, schema="insights", max_size=2)
    try:
        insights = Insights(
            SqlStore(pool), clock=lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
        )
        if only_latency:
            await latency(insights)
            return
        cases = [(f"volumes by {by}, 26 weeks", runs, lambda by=by: insights.volumes(by=by, weeks=26))
                 for by in ("issue", "product", "region", "channel")]  # fmt: skip
        cases += [
            (
                "praise volumes, 13 weeks",
                runs,
                lambda: insights.volumes(by="product", weeks=13, issue_code="compliment"),
            ),
            ("CPMU trend, one product", 3, lambda: insights.cpmu_trend(weeks=26, sku="SKU-7")),
            ("rising issues", 3, lambda: insights.rising(limit=10)),
        ]
        print("| query | runs | p50 ms | p99 ms | max ms | CPU p50 ms (bench process) |")
        print("|---|---|---|---|---|---|")
        for name, n, call in cases:
            f = await timed(n, call)
            print(f"| {name} | {n} | {f['p50']:.0f} | {f['p99']:.0f} | {f['max']:.0f} | {f['cpu']:.0f} |")
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency", action="store_true", help="time a contact to its recompute instead")
    args = parser.parse_args()
    url = with_path(ADMIN_DATABASE_URL, DATABASE)
    print(machine())
    try:
        migrate.ensure_database(url)
        migrate.migrate(url, "insights")
        started = time.perf_counter()
        rows = load(url, args.contacts, args.products, args.seed)
        print(
            f"{args.contacts:,} contacts as {rows:,} contact cells, loaded in {time.perf_counter() - started:.0f} s"
        )
        asyncio.run(measure(url, args.runs, args.latency))
    finally:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    run_bench(main)
