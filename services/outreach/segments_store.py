"""Saved segments: their definitions as JSON, validated by segments.Definition before they are written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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
