"""`crs seed --demo` for outreach, so `make run` shows outreach at work:
- the demo consumers in outreach's consumer read model (their address, language and time zone, as
  contacts' consumer events would bring them; consent takes its defaults: service messages, surveys and
  recall notices yes, marketing no);
- marketing consent from the English speakers among them (recorded as an import, each change a
  `consent_changed` event), a small segment of them and a draft campaign to it, so a new user can
  test-send it, start it and watch its progress;
- the demo survey rule: a complaint resolved is a CSAT survey two minutes later, so the mail sink shows it
  without a two-day wait.

The consumer ids are `crs seed`'s derived ids, the names and addresses contacts' demo list: outreach reads
no other service's tables. Running it again changes nothing: consent already given is not given again, the
segment and the campaign are found by their name and key.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.contacts.seed import DEMO, DEMO_ADDRESSES
from services.outreach.campaigns_store import CampaignStore
from services.outreach.consent import Change
from services.outreach.consumers import ConsumerRow, language_of, region_of, zone_of
from services.outreach.consumers_store import ConsumerStore
from services.outreach.segments import Definition
from services.outreach.segments_store import SegmentNameTaken, SegmentStore
from services.outreach.survey_rules import rule_from_input
from services.outreach.survey_store import RULE_COLUMNS, rule_row
from services.runtime.db import open_pool

SCHEMA = "outreach"
SEGMENT_NAME = "Demo: English speakers who agreed to marketing"
CAMPAIGN_KEY = "demo:spring-recipes"
SEEDED_BY = "demo seed"
# Older than any event contacts publishes, so a consumer changed in contacts replaces the seeded row.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
DEMO_RULE = rule_from_input(
    {"id": "demo-complaint-csat", "name": "Complaint resolved: CSAT", "kind": "csat",
     "issue_prefix": "complaint", "delay_minutes": 2, "suppress_days": 30}
)  # fmt: skip


def demo_consumers(consumer_ids: list[str]) -> list[ConsumerRow]:
    """Each demo consumer with an email address as outreach's read model holds them, in contacts' order."""
    rows = []
    for index, (consumer_id, (_name, language, _numbers, emails)) in enumerate(
        zip(consumer_ids, DEMO, strict=True)
    ):
        if not emails:
            continue
        address = _address(index)
        region = (
            region_of(address) if address else (language.split("-")[1].upper() if "-" in language else "")
        )
        rows.append(
            ConsumerRow(
                consumer_id,
                emails[0],
                language_of(language),
                zone_of(region),
                region,
                LONG_AGO,
                postal_address=address,
            )
        )
    return rows


def _address(index: int) -> dict | None:
    """A contacts demo address as consumer events carry it."""
    if index not in DEMO_ADDRESSES:
        return None
    region, lines, locality, area, postal_code = DEMO_ADDRESSES[index]
    return {"region_code": region, "address_lines": lines, "locality": locality,
            "administrative_area": area, "postal_code": postal_code}  # fmt: skip


def seed_demo(database_url: str, consumer_ids: list[str]) -> None:
    asyncio.run(_seed(database_url, consumer_ids))


async def _seed(database_url: str, consumer_ids: list[str]) -> None:
    pool = await open_pool(database_url, schema=SCHEMA, min_size=1, max_size=2)
    try:
        consumers = ConsumerStore(pool)
        for row in demo_consumers(consumer_ids):
            await consumers.take(row)
            if row.language == "en" and not await _consented(consumers, row.consumer_id):
                await consumers.change(
                    Change.of(row.consumer_id, "marketing", "email", True, source="import",
                              changed_by=SEEDED_BY, changed_at=datetime.now(UTC))
                )  # fmt: skip
        segment_id = await _segment(SegmentStore(pool))
        await CampaignStore(pool).create(
            kind="marketing",
            name="Spring recipes (demo)",
            subject="New spring recipes with our oats",
            body="Hello,\n\nThree quick breakfasts for the spring, from our kitchen to yours.\n\nThe CRS team",
            created_by=SEEDED_BY,
            key=CAMPAIGN_KEY,
            segment_id=segment_id,
            # Slow on purpose: a few messages a second lets the progress be watched.
            rate_per_second=1,
        )
        async with pool.connection() as conn:
            placeholders = ", ".join(["%s"] * (len(RULE_COLUMNS) + 1))
            await conn.execute(
                f"INSERT INTO survey_rule ({', '.join(RULE_COLUMNS)}, updated_by, updated_at)"
                f" VALUES ({placeholders}, now()) ON CONFLICT (id) DO NOTHING",
                (*rule_row(DEMO_RULE), "seed"),
            )
    finally:
        await pool.close()


async def _consented(consumers: ConsumerStore, consumer_id: str) -> bool:
    return any(
        e.purpose == "marketing" and e.channel == "email" and e.granted
        for e in await consumers.consents(consumer_id)
    )


async def _segment(segments: SegmentStore) -> str:
    definition = Definition(languages=("en",), consent="marketing")
    try:
        return (await segments.save(SEGMENT_NAME, definition, SEEDED_BY)).id
    except SegmentNameTaken:
        return next(s.id for s in await segments.list() if s.name == SEGMENT_NAME)
