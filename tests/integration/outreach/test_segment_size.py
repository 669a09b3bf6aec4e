"""A segment's size in SQL over the consumer read model, on real PostgreSQL: it is the number of consumers
segments.matches picks among those with an email address, for every kind of condition, with consent as
recorded or by its default."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from services.outreach import consent, segments_store
from services.outreach.consent import Change
from services.outreach.consumers import ConsumerRow
from services.outreach.consumers_store import ConsumerStore
from services.outreach.recalls import Purchase
from services.outreach.recalls_store import RecallStore
from services.outreach.segments import Definition, Profile, matches
from services.runtime import migrate
from services.runtime.db import open_pool
from tests.support import infra

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REGIONS, LANGUAGES, SKUS = ("GB-ENG", "FR", "US-CA"), ("en", "fr"), ("OAT-500", "BRAN-1", "RYE-2")
CODES = ("complaint.quality", "complaint.quality.taste", "complaint_x", "praise")


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_segments")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


@pytest_asyncio.fixture(scope="module")
async def population(outreach_db):
    """60 consumers with random regions, languages, tiers, purchases, contacts and consent; their profiles."""
    pool = await open_pool(outreach_db, schema="outreach", max_size=2)
    store, facts, rng = ConsumerStore(pool), RecallStore(pool), random.Random(16)
    profiles = []
    for i in range(60):
        cid = str(uuid.uuid4())
        row = ConsumerRow(
            cid,
            email="" if i % 7 == 0 else f"c{i}@example.org",
            language=rng.choice(LANGUAGES),
            time_zone="UTC",
            region=rng.choice(REGIONS),
            updated_at=NOW,
            attributes={"tier": rng.choice(("gold", "silver"))},
        )
        await store.take(row)
        bought = set(rng.sample(SKUS, rng.randint(0, 2)))
        for sku in bought:
            await facts.take_purchases(str(uuid.uuid4()), NOW, [Purchase(cid, sku, "", row.region)])
        codes = set(rng.sample(CODES, rng.randint(0, 2)))
        for code in codes:
            await facts.take_contact({"id": str(uuid.uuid4()), "consumer_id": cid, "issue_code": code}, NOW)
        for purpose in ("marketing", "surveys"):
            if rng.random() < 0.4:
                granted = rng.random() < 0.5
                await store.change(
                    Change.of(cid, purpose, "email", granted, source="import", changed_by="t", changed_at=NOW)
                )
        if row.email:
            profiles.append(
                Profile(
                    cid, row.region, row.language, row.attributes, frozenset(bought), frozenset(codes),
                    consent.consented(await store.consents(cid)),
                )
            )  # fmt: skip
    yield pool, profiles
    await pool.close()


DEFINITIONS = [
    {"consent": "marketing"},
    {"consent": "surveys"},
    {"consent": "service", "regions": ["GB-ENG", "US-CA"]},
    {"consent": "recall", "languages": ["fr"], "attributes": {"tier": "gold"}},
    {"consent": "service", "bought_skus": ["OAT-500", "RYE-2"]},
    {"consent": "service", "contacted_issue_codes": ["complaint"]},  # not complaint_x: a code, not a prefix
    {"consent": "marketing", "contacted_issue_codes": ["complaint.quality"], "bought_skus": ["BRAN-1"]},
]


@pytest.mark.parametrize("raw", DEFINITIONS, ids=lambda raw: "+".join(sorted(raw)))
async def test_the_size_is_what_segments_matches_counts(population, raw):
    pool, profiles = population
    definition = Definition.parse(raw)
    expected = sum(matches(definition, p) for p in profiles)
    assert await segments_store.size(pool, definition) == expected


async def test_marketing_counts_only_the_opted_in_and_service_everyone_with_an_address(population):
    pool, profiles = population
    opted_in = [p for p in profiles if "marketing" in p.consented]
    assert 0 < len(opted_in) < len(profiles)
    assert await segments_store.size(pool, Definition.parse({"consent": "marketing"})) == len(opted_in)
    assert await segments_store.size(pool, Definition.parse({"consent": "service"})) == len(profiles)
