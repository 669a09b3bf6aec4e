"""Early-warning recompute: the whole of signals.compute (GLR-CUSUM, exact lot test with BH, PRR and EBGM)
over a year of synthetic coded contacts, timed in process (no database).

The recompute reads contact cells (domain/aggregates.py), a week per row. By default the cells are
generated directly, as counts per product, region, code and day (numpy), and rolled up as the store's query
rolls them up: generating 10,000,000 contact objects would take longer than the recompute and gigabytes of
memory. `--from-contacts` generates the contacts and times the recompute over them as it ran before the cells.

Products sell weekly in three regions with a lot every four weeks; contacts spread over eight complaint
codes, the products' mixes differing (steady, so the disproportionality count is its false alarms; the
contacts do not follow the week's units, so the series signals are not: this is a timing). Issue 17's
target is 10,000,000 contacts in <= 60 s.

    python -m bench.insights_recompute [--contacts 10000000] [--products 500] [--repeat 2] [--quick]
        [--from-contacts]
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import date, timedelta

import numpy as np

from bench._common import machine, percentiles, run_bench
from services.insights.domain import aggregates, disproportionality, signals
from services.insights.domain.facts import ContactFact
from services.insights.domain.sales import SalesRow, monday

TODAY = date(2026, 12, 2)
WEEKS, REGIONS = 52, ("IL", "CA", "NY")
CODES = [
    f"complaint.quality.{a}.{b}" for a in ("taste", "foreign_object", "texture", "seal") for b in ("x", "y")
]


def sales_of(products: int, rng: random.Random) -> list[SalesRow]:
    first = TODAY - timedelta(weeks=WEEKS)
    return [
        SalesRow(f"SKU-{p}", f"L{w // 4}", region, first + timedelta(weeks=w), first + timedelta(weeks=w, days=6),
                 rng.randint(2_000, 200_000))
        for p in range(products) for w in range(WEEKS) for region in REGIONS
    ]  # fmt: skip


def synthetic(contacts: int, products: int, seed: int) -> tuple[list[ContactFact], list[SalesRow]]:
    rng = random.Random(seed)
    first = TODAY - timedelta(weeks=WEEKS)
    sales = sales_of(products, rng)
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


def day_counts(contacts: int, products: int, seed: int) -> tuple[list[SalesRow], np.ndarray, np.ndarray]:
    """Sales, and contacts (and of them the unverified web forms) per product, region, code and day."""
    rng = random.Random(seed)
    sales = sales_of(products, rng)
    mixes = [rng.choices(range(len(CODES)), k=4) for _ in range(products)]
    share = np.array([[mix.count(c) / len(mix) for c in range(len(CODES))] for mix in mixes])
    mean = contacts / (products * len(REGIONS) * WEEKS * 7)
    draw = np.random.default_rng(seed)
    counts = draw.poisson(
        mean * share[:, None, :, None], size=(products, len(REGIONS), len(CODES), WEEKS * 7)
    )
    return sales, counts, draw.binomial(counts, 0.1)


def synthetic_cells(
    contacts: int, products: int, seed: int
) -> tuple[list[aggregates.CellFact], list[SalesRow]]:
    """The detectors' rows for `contacts` contacts drawn as `synthetic` draws them (product, day and region
    uniform, a product's code from its mix, one in ten an unverified web form weighing 0.25), as counts per
    product, region, code and day, a week per row but in the weeks split by day, as the store's query gives."""
    sales, counts, web = day_counts(contacts, products, seed)
    weights = counts - (1 - 0.25) * web
    days = WEEKS * 7
    first = TODAY - timedelta(weeks=WEEKS)
    split = aggregates.split_weeks(TODAY)
    spans = []  # (first day, last day, lot) per run of days that make one row
    for day in range(days):
        received = first + timedelta(days=day)
        week = monday(received)
        span = (received, received) if week in split else (week, week + timedelta(days=6))
        key = (*span, f"L{day // 28}")
        if not spans or spans[-1][0] != key:
            spans.append((key, day))
    starts = [start for _, start in spans]
    rolled = np.add.reduceat(weights, starts, axis=3)
    rows = []
    for p, r, c, s in zip(*np.nonzero(rolled), strict=True):
        (first_day, last_day, lot), _ = spans[s]
        span = aggregates.Span(f"SKU-{p}", lot, REGIONS[r], CODES[c], first_day, last_day)
        rows.append(aggregates.span_fact(span, float(rolled[p, r, c, s])))
    return rows, sales


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="100,000 contacts, 50 products")
    parser.add_argument("--from-contacts", action="store_true", help="the contacts themselves, not cells")
    args = parser.parse_args()
    if args.quick:
        args.contacts, args.products = 100_000, 50
    started = time.perf_counter()
    make = synthetic if args.from_contacts else synthetic_cells
    facts, sales = make(args.contacts, args.products, args.seed)
    print(machine())
    print(f"{args.contacts:,} contacts, {args.products} products, {len(sales):,} sales rows, {WEEKS} weeks")
    read = "contacts" if args.from_contacts else "rows from the contact cells"
    print(f"recompute reads {len(facts):,} {read} (generated in {time.perf_counter() - started:.1f} s)")
    wholes, parts, cpus = [], [], []
    for _ in range(args.repeat):
        started, cpu = time.perf_counter(), time.process_time()
        found = signals.compute(facts, sales, today=TODAY)
        wholes.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        started = time.perf_counter()
        mix = disproportionality.signals(facts, today=TODAY)
        parts.append(time.perf_counter() - started)
    whole = percentiles([1000 * w for w in wholes], what="recomputes")
    part = percentiles([1000 * p for p in parts], what="disproportionality runs")
    print(f"recompute, {args.repeat} runs: p50 {whole['p50'] / 1000:.1f} s, max {whole['max'] / 1000:.1f} s "
          f"({args.contacts / (whole['p50'] / 1000):,.0f} contacts/s), {len(found)} signals")  # fmt: skip
    print(f"  of which disproportionality: p50 {part['p50'] / 1000:.1f} s, {len(mix)} signals")
    print(
        f"  CPU per recompute: {min(cpus):.1f} s; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB"
    )
    met = args.contacts >= 10_000_000 and whole["max"] <= 60_000
    print(f"target <= 60 s at 10,000,000: {'met' if met else 'not shown'}")
    return 0


if __name__ == "__main__":
    run_bench(main)
