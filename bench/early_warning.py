"""Measured detection: synthetic complaint histories with known injected clusters, scored per method.

Products of very different sales (log-uniform, 2,000 to 2,000,000 units a week) over a seasonal baseline
(+-30 % over the year), each with its own rate (2 to 20 complaints per million units), three regions and
lots that sell for eight weeks each. Twenty-six weeks train the rates; the next twenty-six are monitored.
Two products in three get one cluster in the monitored half, of four weeks: on the product, one region or
one lot, multiplying its rate by 2 or 3. Detectors, as the service runs them (services/insights/domain):
- glr_cusum per product x region, expected = the trained rate x the week's units;
- lot_poisson_bh: each week, every lot's count so far against the rest of its product, BH across all lots;
- the old count rule: 3 or more contacts on one product and lot in 14 days.
Reported: the share of clusters detected within one week of their start (delay 0 or 1), the median delay,
and false alarms per 1,000 monitored series-weeks (alarms on a series with no cluster running on it).

    python -m bench.early_warning [--products 300] [--seed 17]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from dataclasses import dataclass

from bench._common import machine, percentiles, require, run_bench
from services.insights.domain.signals import MIN_WEIGHTED_COUNT, PRIOR_CONTACTS, Tuning
from services.insights.domain.stats import benjamini_hochberg, glr_cusum, poisson_upper_p

TRAIN, MONITOR, LOT_WEEKS, REGIONS, CLUSTER_WEEKS = 26, 26, 8, 3, 4
WEEKS = TRAIN + MONITOR


@dataclass
class Cluster:
    product: int
    kind: str  # product, region, lot
    target: int  # the region or lot; -1 for the product
    start: int
    multiplier: float
    delays: dict
    weekly_expected: float = 0.0  # the product's baseline contacts a week


def poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def lot_of(week: int) -> int:
    return week // LOT_WEEKS


def simulate(products: int, seed: int):
    rng = random.Random(seed)
    units = {}  # (p, region, week) -> units
    counts = {}  # (p, region, lot, week) -> contacts
    clusters = []
    for p in range(products):
        weekly = 10 ** rng.uniform(math.log10(2000), math.log10(2_000_000))
        rate = rng.uniform(2, 20) / 1e6
        shares = [rng.uniform(0.5, 1.5) for _ in range(REGIONS)]
        cluster = None
        if p % 3 != 2:
            kind = ("product", "region", "lot")[p % 9 // 3]
            start = TRAIN + rng.randrange(0, MONITOR - CLUSTER_WEEKS)
            target = {"product": -1, "region": rng.randrange(REGIONS), "lot": lot_of(start)}[kind]
            cluster = Cluster(p, kind, target, start, (2.0, 3.0)[p % 2], {}, weekly * rate)
            clusters.append(cluster)
        for w in range(WEEKS):
            season = 1 + 0.3 * math.sin(2 * math.pi * w / 52)
            for r in range(REGIONS):
                u = weekly * season * shares[r] / sum(shares)
                units[p, r, w] = u
                m = 1.0
                if cluster and cluster.start <= w < cluster.start + CLUSTER_WEEKS:
                    hit = cluster.kind == "product" or (cluster.kind == "region" and cluster.target == r)
                    hit = hit or (cluster.kind == "lot" and cluster.target == lot_of(w))
                    m = cluster.multiplier if hit else 1.0
                counts[p, r, lot_of(w), w] = poisson(rng, rate * u * m)
    return units, counts, clusters


def running(cluster: Cluster | None, week: int, region: int | None = None, lot: int | None = None) -> bool:
    """Whether `cluster` touches this series at `week` (or in the two weeks after it ends)."""
    if cluster is None or not cluster.start <= week < cluster.start + CLUSTER_WEEKS + 2:
        return False
    if cluster.kind == "region" and region is not None:
        return cluster.target == region
    if cluster.kind == "lot" and lot is not None:
        return cluster.target == lot
    return True


def glr_alarms(products, units, counts, tuning):
    for p in range(products):
        for r in range(REGIONS):
            x = [counts[p, r, lot_of(w), w] for w in range(WEEKS)]
            u = [units[p, r, w] for w in range(WEEKS)]
            rate = (sum(x[:TRAIN]) + PRIOR_CONTACTS) / sum(u[:TRAIN])  # as signals._baseline_rate
            run = glr_cusum(x[TRAIN:], [rate * v for v in u[TRAIN:]], threshold=tuning.glr_threshold,
                            window=tuning.glr_window)  # fmt: skip
            for n in run.alarms:
                if sum(x[TRAIN + run.starts[n] : TRAIN + n + 1]) >= MIN_WEIGHTED_COUNT:
                    yield p, r, None, TRAIN + n


def lot_alarms(products, units, counts, tuning):
    flagged = set()
    lots = WEEKS // LOT_WEEKS + 1
    for w in range(TRAIN, WEEKS):
        tests = []
        for p in range(products):
            per_lot = [0.0] * lots
            lot_units = [0.0] * lots
            for v in range(w + 1):
                for r in range(REGIONS):
                    per_lot[lot_of(v)] += counts[p, r, lot_of(v), v]
                    lot_units[lot_of(v)] += units[p, r, v]
            total, all_units = sum(per_lot), sum(lot_units)
            for lot in range(lot_of(w) + 1):
                rest = all_units - lot_units[lot]
                if lot_units[lot] <= 0 or rest <= 0 or lot < lot_of(w) - 2:
                    continue
                expected = (total - per_lot[lot] + PRIOR_CONTACTS) / rest * lot_units[lot]
                tests.append((p, lot, per_lot[lot], poisson_upper_p(per_lot[lot], expected)))
        for (p, lot, count, _), q in zip(tests, benjamini_hochberg([t[3] for t in tests]), strict=True):
            if q <= tuning.lot_q and count >= MIN_WEIGHTED_COUNT and (p, lot) not in flagged:
                flagged.add((p, lot))
                yield p, None, lot, w


def count_rule_alarms(products, counts):
    for p in range(products):
        for w in range(TRAIN, WEEKS):
            lot = lot_of(w)
            recent = sum(counts.get((p, r, lot, v), 0) for r in range(REGIONS) for v in (w - 1, w))
            if recent >= 3:
                yield p, None, lot, w


def score(name, alarms, clusters, by_product, series_weeks):
    false = 0
    for p, region, lot, week in alarms:
        cluster = by_product.get(p)
        if running(cluster, week, region, lot):
            if week >= cluster.start and name not in cluster.delays:
                cluster.delays[name] = week - cluster.start
        else:
            false += 1
    return false * 1000 / series_weeks


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--threshold", type=float, default=Tuning().glr_threshold)
    args = parser.parse_args()
    tuning = Tuning(glr_threshold=args.threshold)
    units, counts, clusters = simulate(args.products, args.seed)
    require(bool(clusters), "no clusters injected")
    by_product = {c.product: c for c in clusters}
    glr_weeks = args.products * REGIONS * MONITOR
    lot_weeks = args.products * MONITOR
    methods = {
        "glr_cusum": (glr_alarms(args.products, units, counts, tuning), glr_weeks),
        "lot_poisson_bh": (lot_alarms(args.products, units, counts, tuning), lot_weeks),
        "count_rule (3 in 14 days)": (count_rule_alarms(args.products, counts), lot_weeks),
    }
    print(f"machine: {machine()}; {args.products} products, {len(clusters)} clusters, seed {args.seed}")
    print(f"GLR threshold {tuning.glr_threshold}, window {tuning.glr_window}; lot BH q <= {tuning.lot_q}")
    rows = []
    for name, (alarms, series_weeks) in methods.items():
        rows.append((name, score(name, list(alarms), clusters, by_product, series_weeks)))
    print(
        "| method | baseline contacts/week | x | clusters | within 1 week | median delay | false alarms /1,000 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, false in rows:
        for band, low, high in (
            ("< 1", 0, 1),
            ("1-10", 1, 10),
            (">= 10", 10, math.inf),
            ("all", 0, math.inf),
        ):
            for mult in (2.0, 3.0):
                chosen = [c for c in clusters if low <= c.weekly_expected < high and c.multiplier == mult]
                delays = [c.delays[name] for c in chosen if name in c.delays]
                quick = sum(1 for d in delays if d <= 1)
                median = f"{statistics.median(delays):g} wk" if delays else "-"
                fa = f"{false:.2f}" if band == "all" and mult == 2.0 else ""
                print(f"| {name} | {band} | {mult:g} | {len(chosen)} | {100 * quick / max(len(chosen), 1):.0f} % "
                      f"| {median} | {fa} |")  # fmt: skip
    glr_hits = [c.delays["glr_cusum"] for c in clusters if "glr_cusum" in c.delays]
    if len(glr_hits) >= 2:
        print(
            "glr_cusum delay percentiles (weeks):", percentiles([float(d) for d in glr_hits], what="delays")
        )
    return 0


if __name__ == "__main__":
    run_bench(main)
