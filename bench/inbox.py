"""The inbox at a centre's scale: how long an agent's and a team's inbox take to read with many open cases
of every channel (the assignment rules matched as the inbox is read), and claims made two at a time for
the same cases (each case must end with exactly one holder).

    python -m bench.inbox [--open 20000] [--closed 100000] [--rules 20] [--reads 50] [--claims 200] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime

import psycopg

from bench._common import bench_database, machine, percentiles, require, run_bench
from services.contacts.casework import store
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.domain.claims import ClaimHeld
from services.contacts.casework.domain.codes import CachedCodeBook
from services.contacts.casework.inbox_service import Inbox
from services.contacts.casework.inbox_views import InboxViews
from services.contacts.casework.notifier import Notifier
from services.runtime import db

DATABASE = "crs_bench_inbox"
CHANNELS = ("phone", "email", "letter", "chat", "web")
LANGUAGES = ("en", "fr", "es", "de", "en-GB")
TEAMS = ("care-1", "care-2", "")
MARK = "bench-inbox"


def seed(url: str, *, open_cases: int, closed: int, rules: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path TO contacts")
        (have,) = conn.execute("SELECT count(*) FROM contact WHERE created_by = %s", (MARK,)).fetchone()
        if have != open_cases + closed:
            conn.execute("DELETE FROM contact WHERE created_by = %s", (MARK,))
            conn.execute(
                "INSERT INTO contact (channel, language, team, status, issue_code, severity, created_by,"
                " verbatim, response_due_at, resolution_due_at)"
                " SELECT (%(channels)s::text[])[1 + i %% 5], (%(languages)s::text[])[1 + i %% 5],"
                " (%(teams)s::text[])[1 + i %% 3], CASE WHEN i < %(open)s THEN 'new' ELSE 'closed' END,"
                " 'question', 'low', %(mark)s, 'Where can I buy it?',"
                " now() + make_interval(mins => i %% 2880), now() + make_interval(days => 7)"
                " FROM generate_series(0, %(total)s - 1) AS i",
                {
                    "channels": list(CHANNELS),
                    "languages": list(LANGUAGES),
                    "teams": list(TEAMS),
                    "open": open_cases,
                    "total": open_cases + closed,
                    "mark": MARK,
                },
            )
        conn.execute("DELETE FROM case_claim")
        conn.execute("DELETE FROM inbox_rule")
        # A few rules that route, and many that match nothing, tried before them.
        conn.execute(
            "INSERT INTO inbox_rule (id, name, position, channel, language, issue_prefix, team, skill)"
            " SELECT gen_random_uuid(), 'filler ' || i, i, 'letter', 'xx', 'complaint', 'care-9', ''"
            " FROM generate_series(1, %s) AS i",
            (max(rules - 3, 0),),
        )
        conn.execute(
            "INSERT INTO inbox_rule (id, name, position, channel, language, team, skill) VALUES"
            " (gen_random_uuid(), 'French', 1000, '', 'fr', '', 'fr'),"
            " (gen_random_uuid(), 'Spanish', 1001, '', 'es', '', 'es'),"
            " (gen_random_uuid(), 'Letters to care-2', 1002, 'letter', '', 'care-2', '')"
        )
        conn.execute("ANALYZE contact")
        conn.commit()


async def timed_reads(views: InboxViews, statuses: list[str], reads: int, **who) -> tuple[list[float], int]:
    samples, shown = [], 0
    for _ in range(reads):
        started = time.perf_counter()
        items = await views.inbox(open_statuses=statuses, now=datetime.now(UTC), limit=100, channel="", **who)
        samples.append((time.perf_counter() - started) * 1000)
        dues = [item.due_at for item in items]
        require(dues == sorted(dues), "the inbox is not in SLA order")
        shown = len(items)
    return samples, shown


async def claims(inbox: Inbox, case_ids: list[str]) -> tuple[list[float], int, float]:
    ada, ben = Actor("ada", "agent", team="care-1"), Actor("ben", "agent", team="care-1")
    samples: list[float] = []

    async def one(case_id: str, who: Actor) -> bool:
        started = time.perf_counter()
        try:
            await inbox.claim(case_id=case_id, actor=who)
            return True
        except ClaimHeld:
            return False
        finally:
            samples.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    won = await asyncio.gather(*(one(case_id, who) for case_id in case_ids for who in (ada, ben)))
    elapsed = time.perf_counter() - started
    for index, case_id in enumerate(case_ids):
        require(
            won[2 * index] != won[2 * index + 1],
            f"case {case_id}: {sum(won[2 * index : 2 * index + 2])} holders",
        )
    return samples, sum(won), elapsed


async def measure(args) -> None:
    url = bench_database(DATABASE, 0)
    seed(url, open_cases=args.open, closed=args.closed, rules=args.rules)
    pool = await db.open_pool(url, schema="contacts", min_size=4, max_size=16)
    try:
        codes = CachedCodeBook(lambda: store.load_codes(pool))
        inbox = Inbox(
            unit_of_work=lambda: store.PostgresUnitOfWork(pool),
            codes=codes,
            channels=CHANNELS,
            reminder=Notifier().follow_up_due,
        )
        views = InboxViews(pool)
        statuses = await inbox.open_statuses()
        mine, shown = await timed_reads(
            views, statuses, args.reads, scope="mine", username="ada", team="care-1", skills=["fr"], agents=[]
        )
        require(shown == 100, f"an agent's inbox showed {shown} cases, not a full page of 100")
        team, _ = await timed_reads(
            views,
            statuses,
            args.reads,
            scope="team",
            username="sam",
            team="care-1",
            skills=[],
            agents=["ada", "ben"],
        )
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id::text FROM contact WHERE created_by = %s AND status = 'new' ORDER BY reference LIMIT %s",
                (MARK, args.claims),
            )
            case_ids = [row[0] for row in await cur.fetchall()]
        latencies, held, elapsed = await claims(inbox, case_ids)
    finally:
        await pool.close()
    require(held == len(case_ids), f"{held} of {len(case_ids)} cases were claimed")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"{args.open:,} open and {args.closed:,} closed cases, {args.rules} rules")
    for name, samples in (("agent's inbox (100 shown)", mine), ("team's inbox", team)):
        p = percentiles(samples, what=name)
        print(
            f"{name}: p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms, p99 {p['p99']:.1f} ms over {len(samples)} reads"
        )
    p = percentiles(latencies, what="claims")
    print(
        f"claims: {len(case_ids)} cases claimed by two agents at once, each with exactly one holder;"
        f" {len(latencies) / elapsed:.0f} claims/s, p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=20)
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="2,000 open cases, 10 reads, 50 claims")
    args = parser.parse_args()
    if args.quick:
        args.open, args.closed, args.reads, args.claims = 2_000, 10_000, 10, 50
    asyncio.run(measure(args))
    return 0


if __name__ == "__main__":
    run_bench(main)
