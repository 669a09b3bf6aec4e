"""SQL for the screenpop schema: calls seen, and each extension's current pop."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.runtime.db import autocommit


class Store:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    # -- calls and pops --

    async def claim_pop(self, *, extension: str, call_id: str, pop: dict[str, Any]) -> bool:
        """Make `pop` the extension's current one if this is the first pop of a call that has not ended.

        One statement claims the call and stores the pop, so a repeated ringing, or one that comes after
        the call ended, stores nothing and the caller publishes nothing.
        """
        async with autocommit(self.pool) as conn:
            cur = await conn.execute(
                "WITH claim AS (INSERT INTO calls_seen (call_id, extension) VALUES (%(call_id)s, %(extension)s)"
                " ON CONFLICT DO NOTHING RETURNING call_id)"
                " INSERT INTO current_pops (extension, call_id, pop) SELECT %(extension)s, %(call_id)s, %(pop)s"
                " FROM claim ON CONFLICT (extension) DO UPDATE SET call_id = excluded.call_id,"
                " pop = excluded.pop, state = 'ringing', updated_at = now()",
                {"extension": extension, "call_id": call_id, "pop": Jsonb(pop)},
            )
            return cur.rowcount == 1

    async def mark_answered(self, *, extension: str, call_id: str) -> bool:
        async with autocommit(self.pool) as conn:
            cur = await conn.execute(
                "UPDATE current_pops SET state = 'answered', updated_at = now()"
                " WHERE extension = %s AND call_id = %s",
                (extension, call_id),
            )
            return cur.rowcount == 1

    async def end_call(self, *, extension: str, call_id: str) -> bool:
        """Record the end and clear the extension's pop if it is this call's; True when one was cleared."""
        async with autocommit(self.pool) as conn:
            cur = await conn.execute(
                "WITH seen AS (INSERT INTO calls_seen (call_id, extension, ended_at) VALUES (%(call_id)s,"
                " %(extension)s, now()) ON CONFLICT (call_id) DO UPDATE SET ended_at = now())"
                " DELETE FROM current_pops WHERE extension = %(extension)s AND call_id = %(call_id)s",
                {"extension": extension, "call_id": call_id},
            )
            return cur.rowcount == 1

    async def forget_old_calls(self, *, older_than: timedelta) -> int:
        """Drop the record of calls rung long ago: it only guards against a late duplicate."""
        async with autocommit(self.pool) as conn:
            cur = await conn.execute("DELETE FROM calls_seen WHERE rung_at < now() - %s", (older_than,))
            return cur.rowcount

    async def current_pop(self, extension: str) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pop, state FROM current_pops WHERE extension = %s", (extension,))
            row = await cur.fetchone()
        if row is None:
            return None
        pop, state = row
        pop = pop if isinstance(pop, dict) else json.loads(pop)
        pop["state"] = state
        return pop
