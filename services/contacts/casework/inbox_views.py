"""The inbox's reads, in SQL: a person's or a team's inbox, follow-ups, a team's workload, the rules.

Routing is read, not stored: each open case is matched against the active rules as the inbox is read
(domain/inbox.py says how), so a rule a supervisor edits applies at once to every open case, with no
backfill and no case version moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.claims import Claim
from services.contacts.casework.domain.follow_ups import FollowUp
from services.contacts.casework.domain.inbox import InboxRule
from services.contacts.casework.inbox_store import FOLLOW_UP_COLUMNS, RULE_COLUMNS, follow_up_from
from services.contacts.casework.store import CASE_COLUMNS, case_from_row
from services.runtime.db import autocommit

# Each open case with the rule that routes it, its SLA due time (domain/inbox.due_of, in SQL to order by
# it), its standing claim and its open follow-ups.
ROUTED = f"""
WITH routed AS (
  SELECT {CASE_COLUMNS}, r.name AS routed_by,
         CASE WHEN coalesce(r.team, '') <> '' THEN r.team ELSE c.team END AS route_team,
         coalesce(r.skill, '') AS route_skill,
         CASE WHEN c.first_response_at IS NULL AND c.response_due_at IS NOT NULL THEN c.response_due_at
              ELSE c.resolution_due_at END AS due_at,
         k.agent AS claim_agent, k.claimed_at AS claim_claimed_at, k.expires_at AS claim_expires_at,
         (SELECT count(*) FROM case_follow_up f WHERE f.contact_id = c.id AND f.state = 'open')::int
           AS open_follow_ups
  FROM contact c
  LEFT JOIN LATERAL (
    SELECT r.name, r.team, r.skill FROM inbox_rule r
    WHERE r.active AND (r.channel = '' OR r.channel = c.channel)
      AND (r.language = '' OR c.language = r.language OR c.language LIKE r.language || '-%%')
      AND (r.issue_prefix = '' OR c.issue_code = r.issue_prefix OR c.issue_code LIKE r.issue_prefix || '.%%')
    ORDER BY r.position, r.id LIMIT 1
  ) r ON true
  LEFT JOIN case_claim k ON k.contact_id = c.id AND k.expires_at > %(now)s
  WHERE c.status = ANY(%(open)s) AND c.issue_code IS NOT NULL
    AND (%(channel)s = '' OR c.channel = %(channel)s)
)
"""
MINE = (
    "(assignee = %(me)s OR claim_agent = %(me)s OR (assignee = '' AND NOT escalated"
    " AND (route_team = '' OR route_team = %(team)s) AND (route_skill = '' OR route_skill = ANY(%(skills)s))))"
)
TEAMS = "(assignee = ANY(%(agents)s) OR (assignee = '' AND (route_team = '' OR route_team = %(team)s)))"
UNASSIGNED = "(assignee = '' AND (route_team = '' OR route_team = %(team)s))"


@dataclass(frozen=True)
class InboxItem:
    case: Case
    due_at: datetime | None
    claim: Claim | None
    routed_by: str
    team: str
    skill: str
    open_follow_ups: int


def _item(row: dict) -> InboxItem:
    claim = None
    if row["claim_agent"]:
        claim = Claim(row["id"], row["claim_agent"], row["claim_claimed_at"], row["claim_expires_at"])
    return InboxItem(
        case=case_from_row(row),
        due_at=row["due_at"],
        claim=claim,
        routed_by=row["routed_by"] or "",
        team=row["route_team"],
        skill=row["route_skill"],
        open_follow_ups=row["open_follow_ups"],
    )


class InboxViews:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, sql: str, params) -> list[dict]:
        async with autocommit(self.pool) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def inbox(
        self,
        *,
        scope: str,
        username: str,
        team: str,
        skills: list[str],
        agents: list[str],
        channel: str,
        open_statuses: list[str],
        now: datetime,
        limit: int,
    ) -> list[InboxItem]:
        """Open cases in the person's inbox (scope mine) or their team's (scope team), most due first."""
        where = TEAMS if scope == "team" else MINE
        rows = await self._rows(
            ROUTED + f"SELECT * FROM routed WHERE {where} ORDER BY due_at NULLS LAST, occurred_at, id"
            " LIMIT %(limit)s",
            {
                "now": now,
                "open": open_statuses,
                "channel": channel,
                "me": username,
                "team": team,
                "skills": skills,
                "agents": agents,
                "limit": limit,
            },
        )
        return [_item(row) for row in rows]

    async def unassigned(self, *, team: str, open_statuses: list[str], now: datetime) -> int:
        rows = await self._rows(
            ROUTED + f"SELECT count(*)::int AS n FROM routed WHERE {UNASSIGNED}",
            {"now": now, "open": open_statuses, "channel": "", "team": team},
        )
        return rows[0]["n"]

    async def follow_ups_of_case(self, case_id: str, *, include_closed: bool) -> list[FollowUp]:
        rows = await self._rows(
            f"SELECT {FOLLOW_UP_COLUMNS} FROM case_follow_up f WHERE f.contact_id = %s"
            " AND (%s OR f.state = 'open') ORDER BY f.due_at, f.id",
            (case_id, include_closed),
        )
        return [follow_up_from(row) for row in rows]

    async def open_follow_ups(self, assignees: list[str], *, limit: int = 200) -> list[tuple[FollowUp, int]]:
        """The open follow-ups of these people, most due first, each with its case's reference."""
        rows = await self._rows(
            f"SELECT {FOLLOW_UP_COLUMNS}, c.reference AS case_reference FROM case_follow_up f"
            " JOIN contact c ON c.id = f.contact_id"
            " WHERE f.state = 'open' AND f.assignee = ANY(%s) ORDER BY f.due_at, f.id LIMIT %s",
            (assignees, limit),
        )
        return [(follow_up_from(row), row["case_reference"]) for row in rows]

    async def references(self, case_ids: list[str]) -> dict[str, int]:
        rows = await self._rows(
            "SELECT id::text, reference FROM contact WHERE id = ANY(%s::uuid[])", (case_ids,)
        )
        return {row["id"]: row["reference"] for row in rows}

    async def load_of(self, agents: list[str], *, open_statuses: list[str], now: datetime) -> dict:
        """What a workload counts: (assignee, SLA dues) of open cases, (assignee, due) of open follow-ups,
        and the holder of each standing claim, for these agents."""
        cases = await self._rows(
            "SELECT assignee, first_response_at, response_due_at, resolution_due_at FROM contact"
            " WHERE assignee = ANY(%s) AND status = ANY(%s) AND issue_code IS NOT NULL",
            (agents, open_statuses),
        )
        follow_ups = await self._rows(
            "SELECT assignee, due_at FROM case_follow_up WHERE state = 'open' AND assignee = ANY(%s)",
            (agents,),
        )
        claims = await self._rows(
            "SELECT agent FROM case_claim WHERE agent = ANY(%s) AND expires_at > %s", (agents, now)
        )
        return {"cases": cases, "follow_ups": follow_ups, "claims": [row["agent"] for row in claims]}

    async def rules(self) -> list[InboxRule]:
        rows = await self._rows(f"SELECT {RULE_COLUMNS} FROM inbox_rule ORDER BY position, id", ())
        return [InboxRule(**row) for row in rows]
