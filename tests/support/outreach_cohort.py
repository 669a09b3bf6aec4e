"""Consumers of one test's own cohort in outreach's read model, and the environment of a channels process
whose mail sink a test reads: what a campaign test needs to send to people and see the mail arrive."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.outreach.consent import Change
from services.outreach.consumers import ConsumerRow
from services.outreach.consumers_store import ConsumerStore
from services.runtime.db import open_pool


def daytime_zone() -> str:
    """A time zone where it is about noon now, so no recipient waits out quiet hours whenever a test runs."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..11 hours from UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT's sign is the other way round


async def consumers_of_a_cohort(database_url: str, run: str, *, consented: int, others: int = 0) -> list[str]:
    """`consented` consumers who agreed to marketing and `others` who did not, all with the attribute
    cohort=`run` and the address c<i>-<run>@example.org, in a daytime zone."""
    pool = await open_pool(database_url, schema="outreach", max_size=2)
    store, ids = ConsumerStore(pool), []
    try:
        for i in range(consented + others):
            consumer_id = str(uuid.uuid4())
            row = ConsumerRow(consumer_id, f"c{i}-{run}@example.org", "en", daytime_zone(), "GB-ENG",
                              datetime.now(UTC), attributes={"cohort": run})  # fmt: skip
            await store.take(row)
            if i < consented:
                await store.change(
                    Change.of(consumer_id, "marketing", "email", True, source="import",
                              changed_by="test", changed_at=datetime.now(UTC))
                )  # fmt: skip
            ids.append(consumer_id)
    finally:
        await pool.close()
    return ids
