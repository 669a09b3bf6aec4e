"""SQL for staff mail (migration 0005): the stakeholder lists, the mail owed, the weeks claimed; nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.insights.domain.staff import Stakeholder
from services.insights.staff_mail import Owed

_OWE = """
INSERT INTO staff_mail (key, kind, payload, created_at, next_try_at) VALUES (%s, %s, %s, now(), now())
ON CONFLICT (key) DO NOTHING
"""
_TAKE = """
UPDATE staff_mail SET next_try_at = %s, attempts = attempts + 1
WHERE key IN (SELECT key FROM staff_mail WHERE sent_at IS NULL AND next_try_at <= %s
              ORDER BY next_try_at LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING key, kind, payload, attempts - 1 AS attempts
"""


async def owe(conn, owed: list[tuple[str, str, dict]]) -> None:
    """Owe (key, kind, payload) mails as part of the caller's transaction; a known key is owed once."""
    for key, kind, payload in owed:
        await conn.execute(_OWE, (key, kind, Jsonb(payload)))


class SqlStaffStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def stakeholders(self, role: str = "") -> list[Stakeholder]:
        async with self.pool.connection() as conn, conn.cursor() as cursor:
            await cursor.execute(
                "SELECT email, role, name FROM stakeholder WHERE (%s = '' OR role = %s) ORDER BY role, name, email",
                (role, role),
            )
            return [Stakeholder(*row) for row in await cursor.fetchall()]

    async def put_stakeholder(self, person: Stakeholder, actor: str, now: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO stakeholder (email, role, name, added_by, added_at) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (role, email) DO UPDATE SET name = EXCLUDED.name",
                (person.email, person.role, person.name, actor, now),
            )

    async def remove_stakeholder(self, role: str, email: str) -> bool:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM stakeholder WHERE role = %s AND email = %s", (role, email)
            )
            return cursor.rowcount > 0

    async def claim_week(self, week: str, lists: tuple[str, ...], actor: str, now: datetime) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO digest_week (week, claimed_at, claimed_by) VALUES (%s, %s, %s)"
                " ON CONFLICT (week) DO NOTHING",
                (week, now, actor),
            )
            if cursor.rowcount == 0:
                return False
            await owe(
                conn, [(f"digest:{week}:{name}", "digest", {"week": week, "list": name}) for name in lists]
            )
            return True

    async def owe_warning(self, event_id: str, warning: dict) -> bool:
        """Contacts' regulatory warning, owed to legal once per event (the bus may deliver it twice)."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                _OWE,
                (f"regulatory:{event_id}", "regulatory", Jsonb({"event_id": event_id, "warning": warning})),
            )
            return cursor.rowcount > 0

    async def take_due(self, now: datetime, lease: timedelta, limit: int) -> list[Owed]:
        # A cursor's row factory, not the connection's: the pooled connection goes back to others as it was.
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(_TAKE, (now + lease, now, limit))
            return [Owed(**row) for row in await cursor.fetchall()]

    async def sent(self, key: str, recipients: int, note: str, now: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE staff_mail SET sent_at = %s, recipients = %s, last_error = %s WHERE key = %s",
                (now, recipients, note, key),
            )

    async def retry(self, key: str, error: str, at: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE staff_mail SET next_try_at = %s, last_error = %s WHERE key = %s", (at, error, key)
            )
