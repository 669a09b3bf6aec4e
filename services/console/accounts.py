"""SQL for the console schema: agents, their teams and extensions, and their sessions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.console.auth import Principal

UPSERT_TEAM = (
    "INSERT INTO teams (id, name) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET name = excluded.name"
)
UPSERT_AGENT = """
INSERT INTO agents (id, username, display_name, password_hash, role, team_id)
VALUES (%(id)s, %(username)s, %(display_name)s, %(password_hash)s, %(role)s, %(team_id)s)
ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
    password_hash = excluded.password_hash, role = excluded.role, team_id = excluded.team_id, active = true
RETURNING id
"""
FREE_EXTENSION = "DELETE FROM extensions WHERE agent_id = %s OR extension = %s"
ASSIGN_EXTENSION = "INSERT INTO extensions (extension, agent_id) VALUES (%s, %s)"

PRINCIPAL = """
SELECT a.id::text AS agent_id, a.username, a.display_name, a.role, a.team_id, e.extension, s.csrf_token,
       CASE WHEN a.role = 'supervisor' THEN ARRAY(
           SELECT te.extension FROM agents t JOIN extensions te ON te.agent_id = t.id
           WHERE t.team_id = a.team_id AND t.active) ELSE '{}'::text[] END AS team_extensions
FROM sessions s JOIN agents a ON a.id = s.agent_id LEFT JOIN extensions e ON e.agent_id = a.id
WHERE s.id = %s AND s.kind = %s AND s.expires_at > now() AND a.active
"""


class Accounts:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    # -- agents and sessions --

    async def chat_languages(self, agent_id: str) -> list[str]:
        """The languages the agent answers chats in."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT languages FROM agents WHERE id = %s", (agent_id,))
            row = await cur.fetchone()
        return list(row[0]) if row else []

    async def skills(self, agent_id: str) -> list[str]:
        """What the agent is skilled in: their inbox is routed by it (contacts' assignment rules), and
        chats are routed to them for it among those who speak the chat's language."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT skills FROM agents WHERE id = %s", (agent_id,))
            row = await cur.fetchone()
        return list(row[0]) if row else []

    async def team_agents(self, team_id: str | None) -> list[str]:
        """The usernames of the active agents of a team, for its inbox and workload."""
        if not team_id:
            return []
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT username FROM agents WHERE team_id = %s AND active AND role = 'agent' ORDER BY username",
                (team_id,),
            )
            return [row[0] for row in await cur.fetchall()]

    async def login_record(self, username: str) -> dict[str, Any] | None:
        """The agent's id, password hash and whether a lockout holds now, to verify a login."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id::text AS agent_id, password_hash, role,"
                " coalesce(locked_until > now(), false) AS locked"
                " FROM agents WHERE username = %s AND active",
                (username,),
            )
            return await cur.fetchone()

    async def login_attempt(self, username: str, *, limit: int, lockout: timedelta) -> int | None:
        """Count an attempt against `username` before its password is checked (a success resets the count),
        so that concurrent guesses cannot outrun the lockout; the attempt's number, or None when locked."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE agents SET failed_logins = failed_logins + 1,"
                " locked_until = CASE WHEN failed_logins + 1 >= %s THEN now() + %s END"
                " WHERE username = %s AND active AND (locked_until IS NULL OR locked_until <= now())"
                " RETURNING failed_logins",
                (limit, lockout, username),
            )
            row = await cur.fetchone()
        return row[0] if row else None

    async def login_succeeded(self, agent_id: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = %s AND failed_logins > 0",
                (agent_id,),
            )

    async def unlock(self, username: str) -> bool:
        """Lift a lockout; True when there was such an agent."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE username = %s", (username,)
            )
            return cur.rowcount == 1

    # -- the access log (append-only: the console's role may only insert and select) --

    async def record_access(
        self, *, actor: str, role: str, action: str, subject: str = "", address: str = "", detail: str = ""
    ) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO access_log (actor, actor_role, action, subject, client_address, detail)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (actor, role, action, subject, address, detail),
            )

    async def record_reads(
        self, *, actor: str, role: str, action: str, subjects: list[str], address: str = "", detail: str = ""
    ) -> None:
        """One entry per subject, in one statement: the consumers and cases a search showed."""
        if not subjects:
            return
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO access_log (actor, actor_role, action, subject, client_address, detail)"
                " SELECT %s, %s, %s, subject, %s, %s FROM unnest(%s::text[]) AS s(subject)",
                (actor, role, action, address, detail, subjects),
            )

    async def forget_failed_logins(self, before: datetime) -> int:
        """Delete failed and locked log-in records older than `before` (the retention policy's cut), and
        none from the last day: the access log is append-only, and this is its one way out."""
        async with self.pool.connection() as conn:
            row = await (await conn.execute("SELECT forget_failed_logins(%s)", (before,))).fetchone()
        return int(row[0])

    async def access_log(
        self,
        *,
        actor: str | None = None,
        subject: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The newest entries first, narrowed by whichever of actor, subject and action are given."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, at, actor, actor_role, action, subject, client_address, detail FROM access_log"
                " WHERE (%(actor)s::text IS NULL OR actor = %(actor)s)"
                " AND (%(subject)s::text IS NULL OR subject = %(subject)s)"
                " AND (%(action)s::text IS NULL OR action = %(action)s)"
                " ORDER BY id DESC LIMIT %(limit)s",
                {"actor": actor, "subject": subject, "action": action, "limit": limit},
            )
            return await cur.fetchall()

    async def set_password_hash(self, agent_id: str, password_hash: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE agents SET password_hash = %s WHERE id = %s", (password_hash, agent_id)
            )

    async def open_session(
        self, *, session_id: str, agent_id: str, csrf_token: str, kind: str, ttl: timedelta
    ) -> None:
        """The row a signed token names (its jti): deleting it, or disabling the agent, ends the token."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO sessions (id, agent_id, kind, csrf_token, expires_at)"
                " VALUES (%s, %s, %s, %s, now() + %s)",
                (session_id, agent_id, kind, csrf_token, ttl),
            )
            # Expired sessions are swept here rather than by a timer: logins are frequent enough.
            await conn.execute("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")

    async def close_session(self, session_id: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("DELETE FROM sessions WHERE id = %s", (session_id,))

    async def principal(self, session_id: str | None, kind: str) -> Principal | None:
        """The agent of a live session of `kind` (a verified token's jti), or None."""
        if not session_id:
            return None
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(PRINCIPAL, (session_id, kind))
            row = await cur.fetchone()
        if row is None:
            return None
        return Principal(
            agent_id=row["agent_id"],
            username=row["username"],
            display_name=row["display_name"],
            role=row["role"],
            extension=row["extension"],
            team_id=row["team_id"],
            csrf_token=row["csrf_token"],
            team_extensions=frozenset(row["team_extensions"] or ()),
        )

    async def team(self, team_id: str | None) -> list[dict[str, Any]]:
        """The agents of a team with their extensions, for a supervisor's board."""
        if not team_id:
            return []
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT a.display_name, a.role, e.extension FROM agents a"
                " LEFT JOIN extensions e ON e.agent_id = a.id"
                " WHERE a.team_id = %s AND a.active ORDER BY e.extension NULLS LAST, a.display_name",
                (team_id,),
            )
            return await cur.fetchall()


def new_agent_id() -> str:
    return str(uuid.uuid4())


def new_session_id() -> str:
    return str(uuid.uuid4())
