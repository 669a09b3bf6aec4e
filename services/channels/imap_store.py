"""SQL for the IMAP readers: their positions (migration 0003, one row per mailbox) and their leases.
No rules here."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.channels.imap import Position
from services.runtime.db import autocommit, connection_options, login_url

_KEY = "crs.channels.imap:"


class SqlPositions:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def position(self, mailbox: str) -> Position | None:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "SELECT uid_validity, last_uid FROM imap_mailbox WHERE mailbox = %s", (mailbox,)
            )
            row = await cursor.fetchone()
            return Position(row[0], row[1]) if row else None

    async def advance(self, mailbox: str, position: Position, *, read_at: datetime) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "INSERT INTO imap_mailbox (mailbox, uid_validity, last_uid, read_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (mailbox) DO UPDATE SET uid_validity = EXCLUDED.uid_validity,"
                " last_uid = EXCLUDED.last_uid, read_at = EXCLUDED.read_at",
                (mailbox, position.uid_validity, position.last_uid, read_at),
            )

    async def read_times(self) -> dict[str, datetime]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute("SELECT mailbox, read_at FROM imap_mailbox")
            return dict(await cursor.fetchall())


class SqlLeases:
    """Mailbox leases as PostgreSQL advisory locks, on a connection of their own: a lock lasts as long as
    the session, so a replica that dies gives its mailboxes up and another takes them."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.conn: psycopg.AsyncConnection | None = None
        self.held: set[str] = set()

    async def _connection(self) -> psycopg.AsyncConnection:
        if self.conn is None or self.conn.closed:
            self.held.clear()
            self.conn = await psycopg.AsyncConnection.connect(
                login_url(self.url, "channels"), options=connection_options("channels"), autocommit=True
            )
        return self.conn

    async def acquire(self, mailbox: str) -> bool:
        try:
            conn = await self._connection()
            if mailbox in self.held:
                await conn.execute("SELECT 1")  # still the session that holds it
                return True
            cursor = await conn.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (_KEY + mailbox,)
            )
            if (await cursor.fetchone())[0]:
                self.held.add(mailbox)
                return True
            return False
        except psycopg.OperationalError:
            self.held.clear()
            if self.conn is not None:
                await self.conn.close()
            raise

    async def release(self, mailbox: str) -> None:
        if mailbox in self.held and self.conn is not None and not self.conn.closed:
            await self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_KEY + mailbox,))
        self.held.discard(mailbox)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        self.held.clear()
