"""Notices in PostgreSQL: queued once per idempotency key, and the outbox the notice sender works through.

SQL only; the rules are in notices.py, the delivery in outbound.py.
"""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from services.channels.notices import Composed, Notice, Result
from services.channels.outbound import Queued
from services.channels.store import CLAIM
from services.runtime.db import autocommit


class SqlNotices:
    def __init__(self, pool: AsyncConnectionPool, *, from_address: str):
        self.pool = pool
        self.from_address = from_address

    async def queue(self, notices: list[tuple[Notice, Composed]]) -> dict[str, Result]:
        """One statement for the batch; a key already queued (now or before) keeps its first row."""
        fresh = {n.idempotency_key: (n, c) for n, c in notices}
        columns = zip(
            *(
                (
                    k,
                    c.message_id,
                    n.to_address,
                    n.subject.strip(),
                    n.language,
                    n.purpose,
                    n.list_unsubscribe,
                    c.mime,
                )
                for k, (n, c) in fresh.items()
            ),
            strict=True,
        )
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "INSERT INTO notice (idempotency_key, message_id, to_address, subject, language, purpose,"
                " list_unsubscribe, mime) SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::text[], %s::bytea[]) ON CONFLICT (idempotency_key) DO NOTHING",
                [list(column) for column in columns],
            )
            cursor = await conn.execute(
                "SELECT idempotency_key, message_id, delivery, attempts, last_error FROM notice"
                " WHERE idempotency_key = ANY(%s)",
                (list(fresh),),
            )
            rows = await cursor.fetchall()
        return {k: Result(k, message_id=m, delivery=d, attempts=a, last_error=e) for k, m, d, a, e in rows}

    async def due(self, *, now: datetime, limit: int) -> list[Queued]:
        """Claim up to `limit` queued notices that are due; another replica skips the ones claimed."""
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "UPDATE notice SET next_attempt_at = %(until)s WHERE id IN (SELECT id FROM notice"
                " WHERE delivery = 'queued' AND next_attempt_at <= %(now)s ORDER BY next_attempt_at"
                " LIMIT %(limit)s FOR UPDATE SKIP LOCKED) RETURNING id, mime, to_address, attempts, subject",
                {"now": now, "until": now + CLAIM, "limit": limit},
            )
            return [
                Queued(r[0], "", bytes(r[1]), self.from_address, r[2], r[3], subject=r[4])
                for r in await cursor.fetchall()
            ]

    async def sent_all(self, ids: list[int], *, now: datetime) -> None:
        await self._outbox(
            "UPDATE notice SET delivery = 'sent', sent_at = %s, attempts = attempts + 1 WHERE id = ANY(%s)",
            (now, ids),
        )

    async def sent(self, message_id: int, *, now: datetime) -> None:
        await self.sent_all([message_id], now=now)

    async def retry(self, message_id: int, *, error: str, at: datetime) -> None:
        await self._outbox(
            "UPDATE notice SET attempts = attempts + 1, last_error = %s, next_attempt_at = %s WHERE id = %s",
            (error, at, message_id),
        )

    async def failed(self, message_id: int, *, error: str) -> None:
        await self._outbox(
            "UPDATE notice SET delivery = 'failed', attempts = attempts + 1, last_error = %s WHERE id = %s",
            (error, message_id),
        )

    async def _outbox(self, sql: str, params) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(sql, params)
