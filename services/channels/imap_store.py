"""SQL for the IMAP readers' positions (migration 0003): one row per mailbox. No rules here."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from services.channels.imap import Position
from services.runtime.db import autocommit


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
