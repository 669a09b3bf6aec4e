"""The dashboard's queries at 10,000,000 contacts, in PostgreSQL: contact cells for a year of contacts drawn
as bench/insights_recompute.py draws them (per product, region, code, channel and day) are copied into the
insights schema of a database of its own (`crs_scale_bench`, dropped after), with the sales, and the use
cases the console calls are timed through the SQL store: volumes by each dimension, the rising issues and
one product's CPMU trend. The contacts themselves are not loaded (the slice drill-down is not timed).

    python -m bench.insights_dashboard [--contacts 10000000] [--products 500] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from bench._common import machine, percentiles, run_bench
from bench.insights_recompute import CODES, REGIONS, TODAY, WEEKS, day_counts
from services.insights.service import Insights
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


async def measure(url: str, runs: int) -> None:
    pool = await open_pool(url, schema="insights", max_size=2)
    try:
        insights = Insights(
            SqlStore(pool), clock=lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
        )
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
        asyncio.run(measure(url, args.runs))
    finally:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    run_bench(main)
