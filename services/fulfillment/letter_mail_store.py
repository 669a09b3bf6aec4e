"""The letter mailer's SQL (services/fulfillment/letter_mail.py), for the asyncio API process."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from services.fulfillment.letter_mail import DueLetter
from services.fulfillment.replies import EMAIL_LETTER, State
from services.fulfillment.reply_store import SqlTransaction
from services.runtime.db import autocommit

# How long a process holds a letter it is sending before another may try it: past any call's deadline.
CLAIM_SECONDS = 120


class SqlMailStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def due(self, *, limit: int) -> list[DueLetter]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "WITH claimed AS (UPDATE fulfillment SET next_send_at = now() + make_interval(secs => %s)"
                "  WHERE id IN (SELECT id FROM fulfillment WHERE delivery = 'email' AND state = 'in_progress'"
                "  AND stage = 'printed' AND next_send_at <= now() ORDER BY next_send_at LIMIT %s"
                "  FOR UPDATE SKIP LOCKED)"
                "  RETURNING id, case_id, email_address, consumer_name, language, template, attempts)"
                " SELECT c.id::text, c.case_id::text, c.email_address, c.consumer_name, c.language,"
                " c.template, l.pdf, c.attempts FROM claimed c JOIN letter l ON l.fulfillment_id = c.id",
                (CLAIM_SECONDS, limit),
            )
            rows = await cursor.fetchall()
        return [DueLetter(*row[:6], pdf=bytes(row[6]), attempts=row[7]) for row in rows]

    async def emailed(self, fulfillment_id: str, *, note: str, actor: str) -> bool:
        return await self._move_if_waiting(fulfillment_id, EMAIL_LETTER.to_state, note=note, actor=actor)

    async def give_up(self, fulfillment_id: str, *, note: str, actor: str) -> None:
        await self._move_if_waiting(fulfillment_id, State.FAILED, note=note, actor=actor)

    async def retry(self, fulfillment_id: str, *, at: datetime) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "UPDATE fulfillment SET attempts = attempts + 1, next_send_at = %s"
                " WHERE id = %s AND state = 'in_progress' AND stage = 'printed'",
                (at, fulfillment_id),
            )

    async def _move_if_waiting(self, fulfillment_id: str, to: State, *, note: str, actor: str) -> bool:
        """The move, its timeline row and its event in one transaction, if the letter still waits."""
        async with self.pool.connection() as conn:
            tx = SqlTransaction(conn)
            try:
                found = await tx.lock(fulfillment_id)
                waiting = (EMAIL_LETTER.from_state.value, EMAIL_LETTER.from_stage)
                if found is None or (found.state, found.stage) != waiting:
                    return False
                await tx.move(found, to, actor, note)
                await tx.commit()
                return True
            finally:
                await conn.rollback()
