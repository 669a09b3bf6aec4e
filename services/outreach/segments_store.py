"""Saved segments: their definitions as JSON, validated by segments.Definition before they are written, and
a segment's size in SQL over the consumer read model, by the rule of segments.matches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.outreach.consent import DEFAULTS
from services.outreach.segments import Definition


class SegmentNameTaken(ValueError):
    pass


class SegmentNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    definition: Definition
    created_by: str


class SegmentStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def save(self, name: str, definition: Definition, created_by: str) -> Segment:
        name = _checked_name(name)
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "INSERT INTO segment (id, name, definition, created_by) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (name) DO NOTHING RETURNING id",
                    (uuid.uuid4(), name, Jsonb(definition.to_json()), created_by),
                )
            ).fetchone()
        if row is None:
            raise SegmentNameTaken(f"a segment named {name!r} exists already")
        return Segment(str(row[0]), name, definition, created_by)

    async def change(self, segment_id: str, name: str, definition: Definition) -> Segment:
        """A saved segment's new name and definition; a campaign already started keeps its recipients."""
        name = _checked_name(name)
        async with self.pool.connection() as conn:
            try:
                row = await (
                    await conn.execute(
                        "UPDATE segment SET name = %s, definition = %s WHERE id = %s RETURNING created_by",
                        (name, Jsonb(definition.to_json()), segment_id),
                    )
                ).fetchone()
            except UniqueViolation:
                raise SegmentNameTaken(f"a segment named {name!r} exists already") from None
        if row is None:
            raise SegmentNotFound(segment_id)
        return Segment(segment_id, name, definition, row[0])

    async def get(self, segment_id: str) -> Segment:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT id, name, definition, created_by FROM segment WHERE id = %s", (segment_id,)
                )
            ).fetchone()
        if row is None:
            raise SegmentNotFound(segment_id)
        return Segment(str(row[0]), row[1], Definition.parse(row[2]), row[3])

    async def enrol(self, campaign_id: str, definition: Definition) -> int:
        """Make the campaign's recipients from the segment as it matches now, in one statement; a consumer
        already a recipient is left as they were, so starting again adds no one twice."""
        where, params = _where(definition)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO campaign_recipient (campaign_id, consumer_id, email, time_zone)"
                f" SELECT %(campaign)s, c.consumer_id, c.email, c.time_zone FROM consumer c WHERE {where}"
                " ON CONFLICT DO NOTHING",
                {**params, "campaign": campaign_id},
            )
        return cur.rowcount

    async def size(self, definition: Definition) -> int:
        return await size(self.pool, definition)

    async def list(self) -> list[Segment]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute("SELECT id, name, definition, created_by FROM segment ORDER BY name")
            ).fetchall()
        return [Segment(str(i), n, Definition.parse(d), c) for i, n, d, c in rows]


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a segment's name is 1 to 200 characters")
    return name


def _where(definition: Definition) -> tuple[str, dict]:
    """segments.matches as a WHERE clause over the consumer read model and its facts (alias `c`)."""
    d = definition
    default = "true" if DEFAULTS[d.consent] else "false"
    clauses = [
        "c.email <> ''",  # a consumer with no address cannot be reached, so is not counted
        "coalesce((SELECT k.granted FROM consent k WHERE k.consumer_id = c.consumer_id"
        f" AND k.purpose = %(consent)s AND k.channel = 'email'), {default})",
    ]
    if d.attributes:
        clauses.append("c.attributes @> %(attributes)s")
    if d.regions:
        clauses.append("c.region = ANY(%(regions)s)")
    if d.languages:
        clauses.append("c.language = ANY(%(languages)s)")
    if d.bought_skus:
        clauses.append(
            "EXISTS (SELECT 1 FROM purchase_fact p WHERE p.consumer_id = c.consumer_id AND p.sku = ANY(%(skus)s))"
        )
    if d.contacted_issue_codes:
        clauses.append(
            "EXISTS (SELECT 1 FROM contact_fact f WHERE f.consumer_id = c.consumer_id"
            " AND (f.issue_code = ANY(%(codes)s) OR f.issue_code LIKE ANY(%(below)s)))"
        )
    params = {
        "consent": d.consent,
        "attributes": Jsonb(dict(d.attributes)),
        "regions": list(d.regions),
        "languages": list(d.languages),
        "skus": list(d.bought_skus),
        "codes": list(d.contacted_issue_codes),
        "below": [_like_escaped(code) + ".%" for code in d.contacted_issue_codes],
    }
    return " AND ".join(clauses), params


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def size(pool: AsyncConnectionPool, definition: Definition) -> int:
    """How many consumers the segment's campaign can reach: matching, consented, with an email address."""
    where, params = _where(definition)
    async with pool.connection() as conn:
        (count,) = await (
            await conn.execute(f"SELECT count(*) FROM consumer c WHERE {where}", params)
        ).fetchone()
    return count
