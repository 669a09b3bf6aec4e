"""The retention policies, the data they expire and the sweeps' records: SQL only."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.contacts.privacy.own_data import announce_anonymised, anonymise_contacts
from services.contacts.privacy.redact import Terms
from services.contacts.privacy.retention import Policy, SweepRecord


class SqlRetentionStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def policies(self) -> list[Policy]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            rows = await (
                await cur.execute(
                    "SELECT kind, days, updated_by, updated_at FROM retention_policy ORDER BY kind"
                )
            ).fetchall()
        return [Policy(**row) for row in rows]

    async def put_policy(self, policy: Policy) -> Policy:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO retention_policy (kind, days, updated_by, updated_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (kind) DO UPDATE SET days = excluded.days, updated_by = excluded.updated_by,"
                " updated_at = excluded.updated_at",
                (policy.kind, policy.days, policy.updated_by, policy.updated_at),
            )
        return policy

    async def expired_recordings(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id::text, recording_key FROM contact WHERE recording_key IS NOT NULL"
                    " AND occurred_at < %s ORDER BY occurred_at LIMIT %s",
                    (before, limit),
                )
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    async def forget_recordings(self, contact_ids: list[str]) -> int:
        async with self.pool.connection() as conn:
            done = await conn.execute(
                "UPDATE contact SET recording_key = NULL WHERE id = ANY(%s::uuid[])", (contact_ids,)
            )
        return done.rowcount

    async def remove_unidentified_callers(self, before: datetime, limit: int) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            callers = await (
                await conn.execute(
                    "SELECT id, number_key FROM unidentified_caller WHERE last_seen_at < %s LIMIT %s FOR UPDATE SKIP LOCKED",
                    (before, limit),
                )
            ).fetchall()
            if not callers:
                return 0
            ids = [c[0] for c in callers]
            await conn.execute(
                "UPDATE contact SET unidentified_caller_id = NULL, caller_number = '' WHERE unidentified_caller_id = ANY(%s)",
                (ids,),
            )
            done = await conn.execute("DELETE FROM unidentified_caller WHERE id = ANY(%s)", (ids,))
        return done.rowcount

    async def anonymise_closed_cases(self, before: datetime, limit: int) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            cases = await (
                await cur.execute(
                    "SELECT c.id, c.reporter_name, c.reporter_email, c.reporter_phone, c.caller_number, k.name"
                    " FROM contact c LEFT JOIN consumer k ON k.id = c.consumer_id"
                    " WHERE c.closed_at < %s AND (c.consumer_id IS NOT NULL OR c.reporter_name <> ''"
                    " OR c.reporter_email <> '' OR c.reporter_phone <> '' OR c.caller_number <> '')"
                    " ORDER BY c.closed_at LIMIT %s FOR UPDATE OF c SKIP LOCKED",
                    (before, limit),
                )
            ).fetchall()
            for case in cases:
                terms = Terms.of(
                    names=[case["reporter_name"], case["name"] or ""],
                    emails=[case["reporter_email"]],
                    phones=[case["reporter_phone"], case["caller_number"]],
                )
                await anonymise_contacts(conn, "id = %(id)s", {"id": case["id"]}, terms)
            await announce_anonymised(conn, [str(c["id"]) for c in cases], "retention")
        return len(cases)

    async def record_sweep(self, record: SweepRecord) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO retention_sweep (id, ran_at, removed) VALUES (%s, %s, %s)",
                (record.id, record.ran_at, Jsonb(dict(record.removed))),
            )
