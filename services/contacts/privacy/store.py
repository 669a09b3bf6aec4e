"""The erasure workflow's and the retention sweep's tables: SQL only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.contacts.privacy.workflow import Erasure, Step


class ErasureStore:
    """workflow.ErasureStore over erasure_request and erasure_step."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def add(self, erasure: Erasure) -> Erasure:
        async with self.pool.connection() as conn, conn.transaction():
            inserted = await conn.execute(
                "INSERT INTO erasure_request (id, consumer_id, requested_by, reason, requested_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (erasure.id, erasure.consumer_id, erasure.requested_by, erasure.reason, erasure.requested_at),
            )
            if inserted.rowcount:
                for position, step in enumerate(erasure.steps):
                    await conn.execute(
                        "INSERT INTO erasure_step (erasure_id, position, service) VALUES (%s, %s, %s)",
                        (erasure.id, position, step.service),
                    )
        return await self.get(erasure.id)

    async def get(self, erasure_id: str) -> Erasure | None:
        found = await self._load("WHERE r.id = %s", (erasure_id,))
        return found[0] if found else None

    async def unfinished(self) -> list[Erasure]:
        return await self._load("WHERE r.state = 'in_progress'", ())

    async def _load(self, where: str, params) -> list[Erasure]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            requests = await (
                await cur.execute(
                    "SELECT r.id::text, r.consumer_id::text, r.requested_by, r.reason, r.requested_at, r.state,"
                    f" r.completed_at FROM erasure_request r {where} ORDER BY r.requested_at",
                    params,
                )
            ).fetchall()
            steps = await (
                await cur.execute(
                    "SELECT erasure_id::text, service, state, erased, attempts, last_error, finished_at"
                    " FROM erasure_step WHERE erasure_id = ANY(%s) ORDER BY erasure_id, position",
                    ([r["id"] for r in requests],),
                )
            ).fetchall()
        by_erasure: dict[str, list[Step]] = {}
        for s in steps:
            by_erasure.setdefault(s.pop("erasure_id"), []).append(Step(**s))
        return [Erasure(**r, steps=tuple(by_erasure.get(r["id"], ()))) for r in requests]

    async def step_done(self, erasure_id: str, service: str, erased: Mapping[str, int], at: datetime) -> None:
        # The first answer stays: a step asked again after a lost reply keeps the receipt it had.
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE erasure_step SET state = 'done', erased = %s, attempts = attempts + 1, last_error = '',"
                " finished_at = %s WHERE erasure_id = %s AND service = %s AND state = 'pending'",
                (Jsonb(dict(erased)), at, erasure_id, service),
            )

    async def step_failed(self, erasure_id: str, service: str, error: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE erasure_step SET attempts = attempts + 1, last_error = %s"
                " WHERE erasure_id = %s AND service = %s AND state = 'pending'",
                (error[:500], erasure_id, service),
            )

    async def complete(self, erasure_id: str, at: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE erasure_request SET state = 'done', completed_at = %s"
                " WHERE id = %s AND state = 'in_progress'",
                (at, erasure_id),
            )
