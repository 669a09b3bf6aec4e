"""The inbox's writes, in SQL: claims, follow-ups and assignment rules, inside casework's unit of work.

A claim is taken with the case's row locked (CaseRepository.get) and written as the case's one
`case_claim` row, so of two claims made at once the second waits for the first and then reads it.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from services.contacts.casework.domain.claims import Claim
from services.contacts.casework.domain.follow_ups import FollowUp
from services.contacts.casework.domain.inbox import InboxRule

FOLLOW_UP_COLUMNS = (
    "f.id::text, f.contact_id::text AS case_id, f.assignee, f.body AS text, f.due_at, f.created_by,"
    " f.created_at, f.state, f.closed_by, f.closed_at, f.reminded_at"
)
RULE_COLUMNS = "id::text, name, position, channel, language, issue_prefix, team, skill, active"


def follow_up_from(row: dict) -> FollowUp:
    return FollowUp(**{k: v for k, v in row.items() if k != "case_reference"})


class InboxRepository:
    """Claims, follow-ups and rules on the unit of work's connection."""

    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def _rows(self, sql: str, params) -> list[dict]:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def claim_of(self, case_id: str) -> Claim | None:
        """The case's claim row (standing or void); read after the case is locked."""
        rows = await self._rows(
            "SELECT contact_id::text AS case_id, agent, claimed_at, expires_at FROM case_claim"
            " WHERE contact_id = %s",
            (case_id,),
        )
        return Claim(**rows[0]) if rows else None

    async def put_claim(self, claim: Claim) -> None:
        await self.conn.execute(
            "INSERT INTO case_claim (contact_id, agent, claimed_at, expires_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (contact_id) DO UPDATE SET agent = excluded.agent,"
            " claimed_at = excluded.claimed_at, expires_at = excluded.expires_at",
            (claim.case_id, claim.agent, claim.claimed_at, claim.expires_at),
        )

    async def drop_claim(self, case_id: str) -> None:
        await self.conn.execute("DELETE FROM case_claim WHERE contact_id = %s", (case_id,))

    async def follow_up(self, follow_up_id: str) -> FollowUp | None:
        """The follow-up, locked until the unit of work ends."""
        rows = await self._rows(
            f"SELECT {FOLLOW_UP_COLUMNS} FROM case_follow_up f WHERE f.id = %s FOR UPDATE", (follow_up_id,)
        )
        return follow_up_from(rows[0]) if rows else None

    async def add_follow_up(self, follow_up: FollowUp) -> None:
        await self.conn.execute(
            "INSERT INTO case_follow_up (id, contact_id, assignee, body, due_at, created_by, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                follow_up.id,
                follow_up.case_id,
                follow_up.assignee,
                follow_up.text,
                follow_up.due_at,
                follow_up.created_by,
                follow_up.created_at,
            ),
        )

    async def save_follow_up(self, follow_up: FollowUp) -> None:
        await self.conn.execute(
            "UPDATE case_follow_up SET state = %s, closed_by = %s, closed_at = %s, reminded_at = %s"
            " WHERE id = %s",
            (follow_up.state, follow_up.closed_by, follow_up.closed_at, follow_up.reminded_at, follow_up.id),
        )

    async def due_follow_ups(self, now: datetime, limit: int) -> list[FollowUp]:
        """Open follow-ups due by `now` whose reminder has not fired, locked; rows another sweep holds are
        skipped, so two replicas never remind of the same one."""
        rows = await self._rows(
            f"SELECT {FOLLOW_UP_COLUMNS} FROM case_follow_up f"
            " WHERE f.state = 'open' AND f.reminded_at IS NULL AND f.due_at <= %s"
            " ORDER BY f.due_at, f.id LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        )
        return [follow_up_from(row) for row in rows]

    async def put_rule(self, rule: InboxRule, *, actor: str) -> None:
        await self.conn.execute(
            "INSERT INTO inbox_rule (id, name, position, channel, language, issue_prefix, team, skill, active,"
            " updated_by) VALUES (%(id)s, %(name)s, %(position)s, %(channel)s, %(language)s, %(issue_prefix)s,"
            " %(team)s, %(skill)s, %(active)s, %(actor)s)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, position = excluded.position,"
            " channel = excluded.channel, language = excluded.language, issue_prefix = excluded.issue_prefix,"
            " team = excluded.team, skill = excluded.skill, active = excluded.active,"
            " updated_by = excluded.updated_by, updated_at = now()",
            {**rule.__dict__, "actor": actor},
        )
