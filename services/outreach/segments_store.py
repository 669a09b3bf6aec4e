"""Saved segments: their definitions as JSON, validated by segments.Definition before they are written, and
a segment's size in SQL over the consumer read model, by the rule of segments.matches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.outreach.consent import DEFAULTS
from services.outreach.segments import Definition


class SegmentNameTaken(ValueError):
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
        name = name.strip()
        if not name or len(name) > 200:
            raise ValueError("a segment's name is 1 to 200 characters")
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

    async def list(self) -> list[Segment]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute("SELECT id, name, definition, created_by FROM segment ORDER BY name")
            ).fetchall()
        return [Segment(str(i), n, Definition.parse(d), c) for i, n, d, c in rows]


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
