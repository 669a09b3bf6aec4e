"""Early-warning recompute: the whole of signals.compute (GLR-CUSUM, exact lot test with BH, PRR and EBGM)
over a year of synthetic coded contacts, timed in process (the read model already loaded; no database).

Products sell weekly in three regions with a lot every four weeks; contacts spread over eight complaint
codes, the products' mixes differing (steady, so the disproportionality count is its false alarms; the
contacts do not follow the week's units, so the series signals are not: this is a timing). Issue 17's
target is 10,000,000 contacts in <= 60 s.

    python -m bench.insights_recompute [--contacts 10000000] [--products 500] [--repeat 2] [--quick]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from bench._common import machine, percentiles, run_bench
from services.insights.domain import disproportionality, signals
from services.insights.domain.facts import ContactFact
from services.insights.domain.sales import SalesRow

TODAY = date(2026, 12, 2)
WEEKS, REGIONS = 52, ("IL", "CA", "NY")
CODES = [
    f"complaint.quality.{a}.{b}" for a in ("taste", "foreign_object", "texture", "seal") for b in ("x", "y")
]


def synthetic(contacts: int, products: int, seed: int) -> tuple[list[ContactFact], list[SalesRow]]:
    rng = random.Random(seed)
    first = TODAY - timedelta(weeks=WEEKS)
    sales = [
        SalesRow(f"SKU-{p}", f"L{w // 4}", region, first + timedelta(weeks=w), first + timedelta(weeks=w, days=6),
                 rng.randint(2_000, 200_000))
        for p in range(products) for w in range(WEEKS) for region in REGIONS
    ]  # fmt: skip
    mixes = [rng.choices(range(len(CODES)), k=4) for _ in range(products)]
    facts = []
    for i in range(contacts):
        p = rng.randrange(products)
        day = rng.randrange(WEEKS * 7)
        facts.append(
            ContactFact(str(i), f"SKU-{p}", f"L{day // 28}", REGIONS[i % 3], CODES[rng.choice(mixes[p])],
                        "web" if i % 10 == 0 else "phone", first + timedelta(days=day), i % 10 != 0)
        )  # fmt: skip
    return facts, sales


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="100,000 contacts, 50 products")
    args = parser.parse_args()
    if args.quick:
        args.contacts, args.products = 100_000, 50
    facts, sales = synthetic(args.contacts, args.products, args.seed)
    print(machine())
    print(f"{args.contacts:,} contacts, {args.products} products, {len(sales):,} sales rows, {WEEKS} weeks")
    wholes, parts = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        found = signals.compute(facts, sales, today=TODAY)
        wholes.append(time.perf_counter() - started)
        started = time.perf_counter()
        mix = disproportionality.signals(facts, today=TODAY)
        parts.append(time.perf_counter() - started)
    whole = percentiles([1000 * w for w in wholes], what="recomputes")
    part = percentiles([1000 * p for p in parts], what="disproportionality runs")
    print(f"recompute, {args.repeat} runs: p50 {whole['p50'] / 1000:.1f} s, max {whole['max'] / 1000:.1f} s "
          f"({args.contacts / (whole['p50'] / 1000):,.0f} contacts/s), {len(found)} signals")  # fmt: skip
    print(f"  of which disproportionality: p50 {part['p50'] / 1000:.1f} s, {len(mix)} signals")
    met = args.contacts >= 10_000_000 and whole["max"] <= 60_000
    print(f"target <= 60 s at 10,000,000: {'met' if met else 'not shown'}")
    return 0


if __name__ == "__main__":
    run_bench(main)
