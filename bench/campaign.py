"""Campaign sending, outreach's share: recipients claimed, decided and recorded per second on PostgreSQL.

    .venv/bin/python bench/campaign.py            # 10,000 recipients
    .venv/bin/python bench/campaign.py --quick    # 2,000 recipients

The rounds are the real ones (campaign_sender.Sender over CampaignStore, at a rate limit far above the
figure) with every recipient consented; the notices are accepted in memory, since channels' SendNotice is
not wired yet. So this is the ceiling outreach puts on throughput, not the rate to the SMTP relay (target
500/s), which adds channels and the relay to each message. Every recipient must end sent, once.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The script's own folder holds bench/email.py, which would hide the standard library's email package.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench._common import machine, percentiles, require, run_bench  # noqa: E402
from services.outreach.campaign_sender import Campaign, Sender  # noqa: E402
from services.outreach.campaigns import RateLimit  # noqa: E402
from services.outreach.campaigns_store import CampaignStore  # noqa: E402
from services.runtime import migrate  # noqa: E402
from services.runtime.db import open_pool  # noqa: E402
from tests.support import infra  # noqa: E402


class Everyone:
    async def of(self, ids, now):
        return {i: (frozenset({"marketing"}), 0) for i in ids}


class Accepted:
    def __init__(self):
        self.keys: list[str] = []

    async def send(self, notices):
        self.keys += [n.idempotency_key for n in notices]
        return [True] * len(notices)


async def measure(url: str, recipients: int) -> float:
    pool = await open_pool(url, schema="outreach", max_size=4)
    try:
        store = CampaignStore(pool)
        cid = await store.create(kind="marketing", name="bench", subject="s", body="b", created_by="bench")
        await store.add_recipients(
            cid, [(str(uuid.uuid4()), f"p{i}@example.org", "UTC") for i in range(recipients)]
        )
        await store.move(cid, "test", tested_to="bench@example.org")
        await store.move(cid, "start")
        notices = Accepted()
        later = datetime.now(UTC) + timedelta(minutes=1)  # every recipient due, whatever the hour
        sender = Sender(store, Everyone(), notices, clock=lambda: later, limit=RateLimit(1e9, time.monotonic))
        campaign = Campaign(cid, "marketing", "s", "b")
        rounds: list[float] = []
        started = time.perf_counter()
        while True:
            at = time.perf_counter()
            if not (await sender.round(campaign))[0]:
                break
            rounds.append((time.perf_counter() - at) * 1000)
        elapsed = time.perf_counter() - started
        figures = percentiles(rounds, what="rounds")
        print(
            f"round of up to 500: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, n={len(rounds)}"
        )
        progress = await store.progress(cid)
        require(progress.sent == recipients, f"{progress.sent} of {recipients} recipients sent")
        require(len(set(notices.keys)) == len(notices.keys) == recipients, "a recipient was sent twice")
        return recipients / elapsed
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    recipients = 2_000 if args.quick else 10_000
    name = infra.unique_name("crs_bench_campaign")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        rate = asyncio.run(measure(url, recipients))
    finally:
        infra.drop_database(name)
    print(f"machine: {machine()}")
    print(f"campaign rounds, outreach's share: {recipients} recipients, {rate:,.0f} settled/s")


if __name__ == "__main__":
    run_bench(main)
