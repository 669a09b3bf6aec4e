"""Measured detection: synthetic complaint histories with known injected clusters, scored per method, the
served tuning against the new one side by side.

Products of very different sales (log-uniform, 2,000 to 2,000,000 units a week) over a seasonal baseline
(+-30 % over the year), each with its own rate (2 to 20 complaints per million units), three regions and
lots that sell for eight weeks each. Twenty-six weeks train the rates; the next twenty-six are monitored.
Two products in three get one cluster in the monitored half, of four weeks: on the product, one region or
one lot, multiplying its rate by 2 or 3. `--overdispersion A` draws each product-week's rate from a gamma
of mean 1 and variance A (negative-binomial counts). Detectors, as the service runs them
(services/insights/domain), each with the served tuning and the new:
- glr_cusum per product x region and over all regions, expected from the first 26 weeks: served, the
  plain rate and one threshold (5, window 8); new, domain/counts' model (negative binomial where the
  training weeks are overdispersed) and the threshold calibrated to 1 false alarm per 1,000 series-weeks at
  the series' expected count (domain/calibration, its own seed), window `--window`;
- lot_poisson_bh: each week, every lot's count so far against the rest of its product, BH across all lots;
  new: negative binomial where the product is overdispersed, and `--lot-recent` weeks of the lot only;
- the old count rule: 3 or more contacts on one product and lot in 14 days (no tuning).
Reported: the share of clusters detected within one week of their start (delay 0 or 1), the median delay,
false alarms per 1,000 monitored series-weeks (alarms on a series with no cluster running on it), and the
target's figure over every cluster and over those whose series expects at least the detectable floor
(calibration.detectable_weekly_count: below it no test holds 1 in 1,000 and sees a doubling in 2 weeks).

    python -m bench.early_warning [--products 300] [--seed 17] [--overdispersion 0]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from dataclasses import dataclass, field

from bench._common import machine, percentiles, require, run_bench
from services.insights.domain import calibration, counts
from services.insights.domain.signals import MIN_WEIGHTED_COUNT, PRIOR_CONTACTS, Tuning
from services.insights.domain.stats import benjamini_hochberg, glr_cusum, negative_binomial_upper_p

TRAIN, MONITOR, LOT_WEEKS, REGIONS, CLUSTER_WEEKS = 26, 26, 8, 3, 4
WEEKS = TRAIN + MONITOR
ALL = REGIONS  # the series over all regions


@dataclass
class Cluster:
    product: int
    kind: str  # product, region, lot
    target: int  # the region or lot; -1 for the product
    start: int
    multiplier: float
    delays: dict
    weekly_expected: float = 0.0  # the product's baseline contacts a week
    series_expected: float = 0.0  # the baseline contacts a week of the series it lands on


@dataclass(frozen=True)
class Detector:
    name: str
    tuning: Tuning
    count_model: bool = False  # domain/counts' model rather than the plain rate
    lot_recent: int | None = None  # the lot's last weeks only; None: its whole life so far
    alphas: dict = field(default_factory=dict, compare=False)  # product -> weekly overdispersion


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


def simulate(products: int, seed: int, overdispersion: float = 0.0):
    rng = random.Random(seed)
    units = {}  # (p, region, week) -> units
    counts_ = {}  # (p, region, lot, week) -> contacts
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
            share = shares[target] / sum(shares) if kind == "region" else 1.0
            cluster = Cluster(
                p, kind, target, start, (2.0, 3.0)[p % 2], {}, weekly * rate, weekly * rate * share
            )
            clusters.append(cluster)
        for w in range(WEEKS):
            season = 1 + 0.3 * math.sin(2 * math.pi * w / 52)
            frailty = rng.gammavariate(1 / overdispersion, overdispersion) if overdispersion > 0 else 1.0
            for r in range(REGIONS):
                u = weekly * season * shares[r] / sum(shares)
                units[p, r, w] = u
                m = 1.0
                if cluster and cluster.start <= w < cluster.start + CLUSTER_WEEKS:
                    hit = cluster.kind == "product" or (cluster.kind == "region" and cluster.target == r)
                    hit = hit or (cluster.kind == "lot" and cluster.target == lot_of(w))
                    m = cluster.multiplier if hit else 1.0
                counts_[p, r, lot_of(w), w] = poisson(rng, rate * u * m * frailty)
    return units, counts_, clusters


def running(cluster: Cluster | None, week: int, region: int | None = None, lot: int | None = None) -> bool:
    """Whether `cluster` touches this series at `week` (or in the two weeks after it ends)."""
    if cluster is None or not cluster.start <= week < cluster.start + CLUSTER_WEEKS + 2:
        return False
    if cluster.kind == "region" and region is not None:
        return cluster.target == region
    if cluster.kind == "lot" and lot is not None:
        return cluster.target == lot
    return True


def _series(p: int, r: int, units, counts_) -> tuple[list[float], list[float]]:
    regions = range(REGIONS) if r == ALL else (r,)
    x = [float(sum(counts_[p, q, lot_of(w), w] for q in regions)) for w in range(WEEKS)]
    return x, [sum(units[p, q, w] for q in regions) for w in range(WEEKS)]


def _expected(x: list[float], u: list[float], detector: Detector, shared: float) -> tuple[list[float], float]:
    """Expected counts of the monitored weeks from the training weeks, and the overdispersion."""
    if detector.count_model:
        model = counts.fit(x[:TRAIN], u[:TRAIN], range(TRAIN), shared_alpha=shared)
        return model.expected(u[TRAIN:], range(TRAIN, WEEKS)), model.alpha
    rate = (sum(x[:TRAIN]) + PRIOR_CONTACTS) / sum(u[:TRAIN])  # the served rate, as before counts.py
    return [rate * v for v in u[TRAIN:]], 0.0


def glr_alarms(products, units, counts_, detector: Detector):
    tuning = detector.tuning
    for p in range(products):
        for r in (ALL, *range(REGIONS)):  # all regions first: its overdispersion is the regions' too
            x, u = _series(p, r, units, counts_)
            expected, alpha = _expected(x, u, detector, detector.alphas.get(p, 0.0) if r != ALL else 0.0)
            if r == ALL:
                detector.alphas[p] = alpha
            threshold = tuning.threshold(expected, alpha)
            run = glr_cusum(x[TRAIN:], expected, threshold=threshold, window=tuning.glr_window, alpha=alpha)
            for n in run.alarms:
                if sum(x[TRAIN + run.starts[n] : TRAIN + n + 1]) >= MIN_WEIGHTED_COUNT:
                    yield p, None if r == ALL else r, None, TRAIN + n


def _lot_tests(products, units, counts_, detector: Detector, w: int):
    lots = WEEKS // LOT_WEEKS + 1
    for p in range(products):
        per_lot, lot_units = [0.0] * lots, [0.0] * lots
        recent, recent_units = [0.0] * lots, [0.0] * lots
        for v in range(w + 1):
            x = sum(counts_[p, r, lot_of(v), v] for r in range(REGIONS))
            s = sum(units[p, r, v] for r in range(REGIONS))
            per_lot[lot_of(v)] += x
            lot_units[lot_of(v)] += s
            if detector.lot_recent is None or v > w - detector.lot_recent:
                recent[lot_of(v)] += x
                recent_units[lot_of(v)] += s
        total, all_units = sum(per_lot), sum(lot_units)
        for lot in range(max(lot_of(w) - 2, 0), lot_of(w) + 1):
            rest = all_units - recent_units[lot]
            if recent_units[lot] <= 0 or rest <= 0:
                continue
            expected = (total - recent[lot] + PRIOR_CONTACTS) / rest * recent_units[lot]
            weeks = min(w + 1, (lot + 1) * LOT_WEEKS) - lot * LOT_WEEKS
            if detector.lot_recent is not None:
                weeks = min(weeks, detector.lot_recent)
            alpha = detector.alphas.get(p, 0.0) / max(weeks, 1)
            yield p, lot, recent[lot], negative_binomial_upper_p(recent[lot], expected, alpha)


def lot_alarms(products, units, counts_, detector: Detector):
    flagged = set()
    for w in range(TRAIN, WEEKS):
        tests = list(_lot_tests(products, units, counts_, detector, w))
        for (p, lot, count, _), q in zip(tests, benjamini_hochberg([t[3] for t in tests]), strict=True):
            if q <= detector.tuning.lot_q and count >= MIN_WEIGHTED_COUNT and (p, lot) not in flagged:
                flagged.add((p, lot))
                yield p, None, lot, w


def count_rule_alarms(products, counts_):
    for p in range(products):
        for w in range(TRAIN, WEEKS):
            lot = lot_of(w)
            recent = sum(counts_.get((p, r, lot, v), 0) for r in range(REGIONS) for v in (w - 1, w))
            if recent >= 3:
                yield p, None, lot, w


def score(name, alarms, by_product, series_weeks):
    false = 0
    for p, region, lot, week in alarms:
        cluster = by_product.get(p)
        if running(cluster, week, region, lot):
            if week >= cluster.start:  # the earliest of its series' alarms
                cluster.delays[name] = min(week - cluster.start, cluster.delays.get(name, math.inf))
        else:
            false += 1
    return false * 1000 / series_weeks


def quick_share(name: str, chosen: list[Cluster]) -> str:
    quick = sum(1 for c in chosen if c.delays.get(name, math.inf) <= 1)
    return f"{100 * quick / len(chosen):.0f} %" if chosen else "-"


def median_delay(name: str, chosen: list[Cluster]) -> str:
    delays = [c.delays[name] for c in chosen if name in c.delays]
    return f"{statistics.median(delays):g} wk" if delays else "-"


BANDS = (("< 1", 0, 1), ("1-10", 1, 10), (">= 10", 10, math.inf), ("all", 0, math.inf))


def report(clusters, false_alarms, floor):
    print("| method | baseline contacts/week | x | clusters | within 1 week: served | new "
          "| median delay: served | new |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for method in ("glr_cusum", "lot_poisson_bh", "count_rule"):
        for band, low, high in BANDS:
            for mult in (2.0, 3.0):
                chosen = [c for c in clusters if low <= c.weekly_expected < high and c.multiplier == mult]
                names = (f"{method} served", f"{method} new")
                print(f"| {method} | {band} | {mult:g} | {len(chosen)} | {quick_share(names[0], chosen)} "
                      f"| {quick_share(names[1], chosen)} | {median_delay(names[0], chosen)} "
                      f"| {median_delay(names[1], chosen)} |")  # fmt: skip
    doublings = [c for c in clusters if c.multiplier == 2.0]
    above = [c for c in doublings if c.series_expected >= floor]
    print(f"\nDetectable floor: a doubling is seen within a week (two weeks' counts) with 90 % power at "
          f"<= 1 false alarm per 1,000 only from {floor:g} expected contacts a week on the series.")  # fmt: skip
    print("| method | tuning | false alarms /1,000 series-weeks | doublings within 1 week: all "
          f"({len(doublings)}) | above the floor ({len(above)}) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, false in false_alarms.items():
        method, tuning = name.split(" ")
        print(
            f"| {method} | {tuning} | {false:.2f} | {quick_share(name, doublings)} | {quick_share(name, above)} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--overdispersion", type=float, default=0.0)
    parser.add_argument("--threshold", type=float, default=Tuning().glr_threshold, help="the served GLR's")
    parser.add_argument("--window", type=int, default=Tuning().glr_window, help="the new GLR's")
    parser.add_argument("--lot-recent", type=int, default=None, help="the new lot test's weeks")
    args = parser.parse_args()
    # "served": the tuning served until the calibrated thresholds; "new": what Tuning() serves now.
    served = Detector("served", Tuning(glr_threshold=args.threshold, glr_window=8, false_alarm_rate=None))
    new = Detector("new", Tuning(glr_window=args.window), count_model=True, lot_recent=args.lot_recent)
    units, counts_, clusters = simulate(args.products, args.seed, args.overdispersion)
    require(bool(clusters), "no clusters injected")
    by_product = {c.product: c for c in clusters}
    glr_weeks = args.products * (REGIONS + 1) * MONITOR
    lot_weeks = args.products * MONITOR
    false_alarms = {}
    for d in (served, new):
        glr = list(glr_alarms(args.products, units, counts_, d))  # first: it finds the lot test's alphas
        false_alarms[f"glr_cusum {d.name}"] = score(f"glr_cusum {d.name}", glr, by_product, glr_weeks)
    for d in (served, new):
        name = f"lot_poisson_bh {d.name}"
        false_alarms[name] = score(
            name, list(lot_alarms(args.products, units, counts_, d)), by_product, lot_weeks
        )
    rule = list(count_rule_alarms(args.products, counts_))
    for name in ("count_rule served", "count_rule new"):
        false_alarms[name] = score(name, rule, by_product, lot_weeks)
    print(f"machine: {machine()}; {args.products} products, {len(clusters)} clusters, seed {args.seed}, "
          f"overdispersion {args.overdispersion:g}")  # fmt: skip
    print(f"served: GLR threshold {served.tuning.glr_threshold:g}, window {served.tuning.glr_window}, plain rate; "
          f"new: threshold calibrated to {calibration.FALSE_ALARM_RATE * 1000:g}/1,000 (seed "
          f"{calibration.CALIBRATION_SEED}), window {new.tuning.glr_window}, domain/counts' model, lot weeks "
          f"{args.lot_recent or 'all'}; lot BH q <= {served.tuning.lot_q}")  # fmt: skip
    report(clusters, false_alarms, calibration.detectable_weekly_count())
    for d in (served, new):
        hits = [float(c.delays[f"glr_cusum {d.name}"]) for c in clusters if f"glr_cusum {d.name}" in c.delays]
        print(
            f"glr_cusum {d.name} delay over the clusters it caught (weeks):", percentiles(hits, what="delays")
        )
    return 0


if __name__ == "__main__":
    run_bench(main)
