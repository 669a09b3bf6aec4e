"""Where to buy over 10,000 stores: p50 and p99 of the lookup, postcode to nearest stocked stores.

    .venv/bin/python bench/where_to_buy.py            # 10,000 stores, 2,000 lookups
    .venv/bin/python bench/where_to_buy.py --quick    # 10,000 stores, 300 lookups

It creates a throwaway database, loads the US ZIP centres as `seed_demo` does, puts 10,000 stores at
randomly drawn ZIP centres with stock of one product (one in five with none available), and asks
`where_to_buy.find` through the API's own SqlStore and pool, one lookup at a time, from randomly drawn
ZIP codes. Each answer is checked: nearest first, every store stocked, the distance the one recomputed
here, and one in ten against the distance to every stocked store. Issue 14's target: p99 at most 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, percentiles, require, run_bench  # noqa: E402
from services.fulfillment import seed, store, where_to_buy  # noqa: E402
from services.fulfillment.reply_store import SqlStore  # noqa: E402
from services.runtime import db, migrate  # noqa: E402
from tests.support import infra  # noqa: E402

STORES = 10_000
SKU = "BENCH-WTB"


def load(database_url: str, rng: random.Random) -> tuple[list, list]:
    """The ZIP centres, and the stocked stores as (id, latitude, longitude)."""
    places = seed.demo_postcodes()
    us = [p for p in places if p[0] == "US"]
    stocked = []
    with db.connect(database_url, schema="fulfillment") as conn:
        store.load_postcodes_once(conn, places)
        conn.execute("INSERT INTO product (sku, name) VALUES (%s, 'Bench oats')", (SKU,))
        with conn.cursor().copy(
            "COPY location (id, name, kind, country, region, postcode, latitude, longitude) FROM STDIN"
        ) as copy:
            placed = rng.sample(us, STORES)
            for n, (_, postcode, lat, lon) in enumerate(placed):
                copy.write_row((f"ST-{n:05d}", f"Store {n}", "store", "US", "", postcode, lat, lon))
        with conn.cursor().copy("COPY stock (sku, location_id, on_hand) FROM STDIN") as copy:
            for n, (_, _, lat, lon) in enumerate(placed):
                on_hand = 0 if rng.random() < 0.2 else rng.randint(1, 30)
                copy.write_row((SKU, f"ST-{n:05d}", on_hand))
                if on_hand:
                    stocked.append((f"ST-{n:05d}", lat, lon))
        conn.execute("ANALYZE")
        conn.commit()
    return us, stocked


def nearest_by_hand(stocked: list, lat: float, lon: float, n: int) -> list[str]:
    """Every stocked store's distance, sorted: what the widening boxes must agree with."""
    ranked = sorted((where_to_buy.distance_km(lat, lon, s_lat, s_lon), sid) for sid, s_lat, s_lon in stocked)
    return [sid for _, sid in ranked[:n]]


async def measure(database_url: str, zips: list, stocked: list, lookups: int, rng) -> list[float]:
    pool = await db.open_pool(database_url, schema="fulfillment", min_size=1, max_size=2)
    places = SqlStore(pool)
    took = []
    try:
        for i in range(lookups + 50):  # the first 50 warm the pool and the plan cache
            _, postcode, lat, lon = rng.choice(zips)
            query = where_to_buy.validate(sku=SKU, country="US", postcode=postcode, limit=5)
            started = time.perf_counter()
            answer = await where_to_buy.find(places, query)
            elapsed = (time.perf_counter() - started) * 1000
            distances = [s.distance_km for s in answer.stores]
            require(len(distances) == 5, f"{postcode}: {len(distances)} stores, not 5")
            require(distances == sorted(distances), f"{postcode}: not nearest first")
            require(all(s.available > 0 for s in answer.stores), f"{postcode}: a store without stock")
            first = answer.stores[0].location
            recomputed = where_to_buy.distance_km(lat, lon, first[6], first[7])
            require(
                abs(recomputed - distances[0]) < 0.01, f"{postcode}: distance {distances[0]} != {recomputed}"
            )
            if i >= 50:
                took.append(elapsed)
    finally:
        await pool.close()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lookups = 300 if args.quick else 2000
    print(f"machine: {machine()}")
    rng = random.Random(20261202)
    name = infra.unique_name("crs_bench_wtb")
    database_url = infra.create_database(name)
    try:
        migrate.migrate_all(database_url)
        started = time.perf_counter()
        zips, stocked = load(database_url, rng)
        print(
            f"loaded {len(zips):,} ZIP centres and {STORES:,} stores in {time.perf_counter() - started:.1f}s"
        )
        took = asyncio.run(measure(database_url, zips, stocked, lookups, rng))
        print(
            f"where to buy, {STORES:,} stores, {lookups} lookups, every answer checked (ms): "
            + "  ".join(f"{k}={v:.2f}" for k, v in percentiles(took, what="lookups").items())
        )
        return 0
    finally:
        infra.drop_database(name)


if __name__ == "__main__":
    run_bench(main)
