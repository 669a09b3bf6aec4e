"""`crs seed`: demo data for `make run`, or a directory of N consumers for benchmarks.

Every service seeds its own schema; consumer ids are derived from a number, so each service can seed data
for the same consumers without reading another service's tables.
"""

from __future__ import annotations

import importlib
import time
import uuid

from services.channels import demo_letters
from services.runtime.settings import Common

NAMESPACE = uuid.UUID("6f1d3c1e-2f4a-4b8e-9a57-3c6f0e0a9b21")
DEMO_CONSUMERS = 10
# Bulk ids start past the demo ones, so a benchmark directory and the demo can live together.
BULK_OFFSET = 1000
SEEDED_SERVICES = ("contacts", "billing", "fulfillment", "console", "insights", "knowledge", "outreach")
# Services whose demo data is about the demo consumers, by their ids.
SEEDED_FOR_CONSUMERS = ("contacts", "outreach")


def consumer_id(index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"consumer-{index}"))


def _seeder(service: str):
    try:
        return importlib.import_module(f"services.{service}.seed")
    except ModuleNotFoundError as exc:
        if exc.name != f"services.{service}.seed":
            raise
        return None


def run(args) -> int:
    url = args.database_url or Common.from_env().database_url
    if args.demo:
        ids = [consumer_id(i) for i in range(DEMO_CONSUMERS)]
        for service in SEEDED_SERVICES:
            seeder = _seeder(service)
            if seeder is None:
                continue
            if service in SEEDED_FOR_CONSUMERS:
                seeder.seed_demo(url, ids)
            else:
                seeder.seed_demo(url)
            print(f"{service}: demo data in place")
        scans = demo_letters.write()
        print(f"channels: demo letter scans to upload on the console's Letters page: {scans[0].parent}")
    if args.consumers:
        ids = [consumer_id(BULK_OFFSET + i) for i in range(args.consumers)]
        for service in SEEDED_SERVICES:
            seeder = _seeder(service)
            if seeder is None or not hasattr(seeder, "seed_bulk"):
                continue
            started = time.perf_counter()
            seeder.seed_bulk(url, ids)
            print(f"{service}: {len(ids):,} consumers seeded in {time.perf_counter() - started:.1f}s")
    if not args.demo and not args.consumers:
        print("nothing to do: pass --demo or --consumers N")
        return 2
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("seed", help="load demo data, or N consumers for benchmarks")
    parser.add_argument("--demo", action="store_true", help="the demo consumers, agents and accounts")
    parser.add_argument("--consumers", type=int, default=0, metavar="N", help="N generated consumers (COPY)")
    parser.add_argument("--database-url", help="defaults to CRS_DATABASE_URL")
    parser.set_defaults(func=run)
