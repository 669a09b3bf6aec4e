"""The operational reports' arithmetic (domain/reports.py) over synthetic worked cases and survey answers,
timed in process (the read models already loaded; no database, no gRPC): each of the six reports grouped
by agent, wall time and CPU time per report.

The cases are the demo's generator (services/insights/seed_reports.py) run over more days, so they have
its mix of channels, agents, response times, breaches and answers.

    python -m bench.insights_reports [--cases 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import numpy as np

from bench._common import machine, percentiles, run_bench
from services.insights import seed_reports
from services.insights.domain import reports

TODAY = date(2026, 12, 3)


def synthetic(count: int) -> tuple[list, list]:
    rng = np.random.default_rng(11)
    now = datetime.combine(TODAY, clock(12), UTC)
    days = 365
    cases = []
    for i in range(count):
        created = now - timedelta(seconds=float(rng.uniform(0, days * 86400)))
        cases.append(seed_reports.worked_case(rng, i, created, now))
    ratings = [
        seed_reports.rating(rng, w, "csat" if i % 3 else "nps")
        for i, w in enumerate(cases)
        if w.resolution_seconds is not None and w.agent and i % 4 == 0
    ]
    return cases, ratings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases, ratings = synthetic(args.cases)
    now = datetime.combine(TODAY, clock(12), UTC)
    print(machine())
    print(f"{len(cases):,} cases, {len(ratings):,} answers; each report by agent, {args.repeat} runs")
    for name in reports.REPORTS:
        walls, cpus = [], []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            reports.build(name, cases, ratings, now=now, by="agent")
            walls.append(1000 * (time.perf_counter() - wall))
            cpus.append(1000 * (time.process_time() - cpu))
        w, c = percentiles(walls, what="runs"), percentiles(cpus, what="runs")
        print(f"{name:<26} p50 {w['p50']:8.1f} ms  max {w['max']:8.1f} ms  CPU p50 {c['p50']:8.1f} ms")
    return 0


if __name__ == "__main__":
    run_bench(main)
