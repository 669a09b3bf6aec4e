"""SQL for casework: cases, their events and calls, code tables, SLA sweeps and search. SQL only."""

from __future__ import annotations

import json
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.contacts.codes import CodeBook, SlaPolicy
from services.runtime import outbox
from services.runtime.events import Event

_STORED_COLUMNS = (
    "id::text, reference, consumer_id::text, channel, direction, summary, status, occurred_at, call_id,"
    " recording_key, reporter_name, reporter_email, reporter_phone, product_sku, product_upc, product_name,"
    " lot_code, best_by, produced_on, purchase_store, purchase_location, purchased_on, issue_code, severity,"
    " action_codes, verbatim, notes, language, assignee, escalated, escalation_reason, created_by, created_at,"
    " updated_at, first_response_at, resolved_at, closed_at, response_due_at, resolution_due_at,"
    " sla_breached_at, sla_breach, version"
)
CASE_COLUMNS = (
    ", ".join(f"c.{column.strip()}" for column in _STORED_COLUMNS.split(","))
    + ", ARRAY(SELECT cc.call_id FROM contact_call cc WHERE cc.contact_id = c.id ORDER BY cc.linked_at) AS call_ids"
)
# A case just inserted has no linked calls yet.
_INSERTED_COLUMNS = _STORED_COLUMNS + ", ARRAY[]::text[] AS call_ids"
# Columns a case may write; the rest are kept by the workflow.
WRITABLE = (
    "consumer_id",
    "channel",
    "direction",
    "summary",
    "status",
    "occurred_at",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "product_sku",
    "product_upc",
    "product_name",
    "lot_code",
    "best_by",
    "produced_on",
    "purchase_store",
    "purchase_location",
    "purchased_on",
    "issue_code",
    "severity",
    "action_codes",
    "verbatim",
    "notes",
    "language",
    "search_config",
    "assignee",
    "escalated",
    "escalation_reason",
    "created_by",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "sla_breached_at",
    "sla_breach",
)


class CaseRepository:
    """Cases on one connection, inside the caller's transaction."""

    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def _one(self, sql: str, params) -> dict | None:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchone()

    async def insert(self, values: dict) -> dict:
        columns = [c for c in WRITABLE if c in values]
        placeholders = ", ".join(f"%({c})s" for c in columns)
        return await self._one(
            f"WITH c AS (INSERT INTO contact ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *)"
            f" SELECT {CASE_COLUMNS} FROM c",
            values,
        )

    async def insert_many(self, rows: list[dict]) -> list[dict]:
        """Insert cases with ids already given: one statement per set of columns; returns them stored."""
        stored: dict[str, dict] = {}
        groups: dict[tuple[str, ...], list[dict]] = {}
        for values in rows:
            groups.setdefault(("id", *(c for c in WRITABLE if c in values)), []).append(values)
        async with self.conn.cursor(row_factory=dict_row) as cur:
            for columns, group in groups.items():
                one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
                await cur.execute(
                    f"INSERT INTO contact ({', '.join(columns)}) VALUES {', '.join([one_row] * len(group))}"
                    f" RETURNING {_INSERTED_COLUMNS}",
                    [values[c] for values in group for c in columns],
                )
                stored.update((row["id"], row) for row in await cur.fetchall())
        return [stored[values["id"]] for values in rows]

    async def add_events_many(self, entries: list) -> None:
        """Timeline entries, as (contact id, entry with kind, actor, changes and note), in one statement."""
        await self.conn.execute(
            "INSERT INTO contact_event (contact_id, actor, kind, changes, note)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::jsonb[], %s::text[])",
            (
                [cid for cid, _ in entries],
                [e.actor for _, e in entries],
                [e.kind for _, e in entries],
                [Jsonb(e.changes) for _, e in entries],
                [e.note for _, e in entries],
            ),
        )

    async def add_outbox_many(self, events: list[Event]) -> None:
        await outbox.add_events(self.conn, events)

    async def get(self, contact_id: str, *, lock: bool = False) -> dict | None:
        suffix = " FOR UPDATE OF c" if lock else ""
        return await self._one(f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.id = %s{suffix}", (contact_id,))

    async def uncoded_call(self, call_id: str) -> dict | None:
        """The call contact telephony filed for `call_id`, while nobody has coded it yet."""
        return await self._one(
            f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.call_id = %s AND c.issue_code IS NULL FOR UPDATE OF c",
            (call_id,),
        )

    async def update(self, contact_id: str, values: dict) -> dict:
        columns = [c for c in WRITABLE if c in values]
        assignments = "".join(f"{c} = %({c})s, " for c in columns)
        await self.conn.execute(
            f"UPDATE contact SET {assignments}updated_at = now(), version = version + 1 WHERE id = %(_id)s",
            {**values, "_id": contact_id},
        )
        return await self.get(contact_id)

    async def add_event(
        self, contact_id: str, *, actor: str, kind: str, changes: dict | None = None, note: str = ""
    ) -> None:
        await self.conn.execute(
            "INSERT INTO contact_event (contact_id, actor, kind, changes, note) VALUES (%s, %s, %s, %s, %s)",
            (contact_id, actor, kind, Jsonb(changes or {}), note),
        )

    async def link_call(self, contact_id: str, call_id: str) -> bool:
        cursor = await self.conn.execute(
            "INSERT INTO contact_call (contact_id, call_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (contact_id, call_id),
        )
        return cursor.rowcount == 1

    async def add_outbox(self, event: Event) -> None:
        await outbox.add_event(self.conn, event)

    async def timeline(self, contact_id: str) -> list[dict]:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT id, occurred_at, actor, kind, changes, note FROM contact_event"
                " WHERE contact_id = %s ORDER BY id",
                (contact_id,),
            )
            return await cur.fetchall()

    async def recordings(self, call_ids: list[str]) -> list[dict]:
        """The call contacts filed for these calls, with their recording keys."""
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT call_id, recording_key, duration_seconds, occurred_at FROM contact"
                " WHERE call_id = ANY(%s) ORDER BY occurred_at",
                (call_ids,),
            )
            return await cur.fetchall()

    async def filed_call(self, call_id: str) -> dict | None:
        """The contact telephony filed for `call_id`, and the ids of the cases the call belongs to."""
        return await self._one(
            "SELECT f.call_id, f.consumer_id::text, f.caller_number, f.recording_key, f.duration_seconds,"
            " f.occurred_at,"
            " ARRAY(SELECT id::text FROM (SELECT f.id WHERE f.issue_code IS NOT NULL"
            "  UNION SELECT cc.contact_id FROM contact_call cc WHERE cc.call_id = f.call_id) linked(id)"
            "  ORDER BY id) AS case_ids"
            " FROM contact f WHERE f.call_id = %s",
            (call_id,),
        )

    async def due_for_breach(self, now: datetime, limit: int) -> list[dict]:
        """Open cases past a due time and not yet flagged, locked for this sweep."""
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT id::text, reference, issue_code, severity, assignee, first_response_at,"
                " response_due_at, resolution_due_at FROM contact"
                " WHERE sla_breached_at IS NULL AND resolved_at IS NULL AND issue_code IS NOT NULL"
                " AND ((first_response_at IS NULL AND response_due_at < %(now)s) OR resolution_due_at < %(now)s)"
                " ORDER BY least(response_due_at, resolution_due_at) LIMIT %(limit)s FOR UPDATE SKIP LOCKED",
                {"now": now, "limit": limit},
            )
            return await cur.fetchall()

    async def flag_breach(self, contact_id: str, *, breach: str, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE contact SET sla_breached_at = %s, sla_breach = %s, version = version + 1 WHERE id = %s",
            (at, breach, contact_id),
        )

    # -- code tables --

    async def upsert_code(self, kind: str, row: dict) -> None:
        if kind == "issue":
            await self.conn.execute(
                "INSERT INTO issue_code (code, parent, label, severity, auto_escalate, active, position)"
                " VALUES (%(code)s, %(parent)s, %(label)s, %(severity)s, %(auto_escalate)s, %(active)s, %(position)s)"
                " ON CONFLICT (code) DO UPDATE SET label = excluded.label, severity = excluded.severity,"
                " auto_escalate = excluded.auto_escalate, active = excluded.active, position = excluded.position,"
                " updated_at = now()",
                row,
            )
        elif kind == "action":
            await self.conn.execute(
                "INSERT INTO action_code (code, label, is_response, active, position)"
                " VALUES (%(code)s, %(label)s, %(is_response)s, %(active)s, %(position)s)"
                " ON CONFLICT (code) DO UPDATE SET label = excluded.label, is_response = excluded.is_response,"
                " active = excluded.active, position = excluded.position, updated_at = now()",
                row,
            )
        else:
            await self.conn.execute(
                "INSERT INTO contact_status (code, label, stage, active, position)"
                " VALUES (%(code)s, %(label)s, %(stage)s, %(active)s, %(position)s)"
                " ON CONFLICT (code) DO UPDATE SET label = excluded.label, stage = excluded.stage,"
                " active = excluded.active, position = excluded.position, updated_at = now()",
                row,
            )


TABLES = {"issue": "issue_code", "action": "action_code", "status": "contact_status"}


async def load_codes(pool: AsyncConnectionPool) -> CodeBook:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        book = CodeBook()
        await cur.execute(
            "SELECT code, parent, label, severity, auto_escalate, active, position FROM issue_code ORDER BY position, code"
        )
        book.issues = {r["code"]: r for r in await cur.fetchall()}
        await cur.execute(
            "SELECT code, label, is_response, active, position FROM action_code ORDER BY position, code"
        )
        book.actions = {r["code"]: r for r in await cur.fetchall()}
        await cur.execute(
            "SELECT code, label, stage, active, position FROM contact_status ORDER BY position, code"
        )
        book.statuses = {r["code"]: r for r in await cur.fetchall()}
        await cur.execute(
            "SELECT issue_prefix, severity, first_response, resolution FROM sla_policy WHERE active"
        )
        book.policies = [SlaPolicy(**r) for r in await cur.fetchall()]
        return book


class CaseUnitOfWork:
    """One transaction for casework; events written here go out only if it commits."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def __aenter__(self) -> CaseRepository:
        self._cm = self.pool.connection()
        conn = await self._cm.__aenter__()
        self._tx = conn.transaction()
        await self._tx.__aenter__()
        return CaseRepository(conn)

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            await self._tx.__aexit__(exc_type, exc, tb)
        finally:
            await self._cm.__aexit__(exc_type, exc, tb)


class CaseStore:
    """Entry to casework's tables: transactions for changes, pooled reads for search and lists."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    def transaction(self) -> CaseUnitOfWork:
        return CaseUnitOfWork(self.pool)

    async def load_codes(self) -> CodeBook:
        return await load_codes(self.pool)

    async def get(self, contact_id: str) -> dict | None:
        async with self.pool.connection() as conn:
            return await CaseRepository(conn).get(contact_id)

    async def timeline(self, contact_id: str) -> list[dict]:
        async with self.pool.connection() as conn:
            return await CaseRepository(conn).timeline(contact_id)

    async def recordings(self, call_ids: list[str]) -> list[dict]:
        async with self.pool.connection() as conn:
            return await CaseRepository(conn).recordings(call_ids)

    async def filed_call(self, call_id: str) -> dict | None:
        async with self.pool.connection() as conn:
            return await CaseRepository(conn).filed_call(call_id)

    async def search(
        self, *, where: list[str], params: dict, order: str, limit: int, offset: int
    ) -> list[dict]:
        """Cases matching every clause of `where` (built by the search module from checked filters)."""
        clause = " AND ".join(where) if where else "true"
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {CASE_COLUMNS} FROM contact c WHERE {clause} ORDER BY {order}"
                " LIMIT %(limit)s OFFSET %(offset)s",
                {**params, "limit": limit, "offset": offset},
            )
            return await cur.fetchall()

    async def lot_clusters(self, *, days: int, threshold: int, issue_prefix: str) -> list[dict]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT product_sku, lot_code, count(*) AS contacts, min(occurred_at) AS first_at,"
                " max(occurred_at) AS last_at, array_agg(DISTINCT issue_code) AS issue_codes FROM contact"
                " WHERE product_sku <> '' AND lot_code <> '' AND occurred_at > now() - make_interval(days => %(days)s)"
                " AND (issue_code = %(prefix)s OR issue_code LIKE %(like)s)"
                " GROUP BY product_sku, lot_code HAVING count(*) >= %(threshold)s ORDER BY count(*) DESC LIMIT 100",
                {"days": days, "threshold": threshold, "prefix": issue_prefix, "like": issue_prefix + ".%"},
            )
            return await cur.fetchall()

    async def upsert_codes(self, kind: str, rows: list[dict]) -> None:
        async with self.transaction() as repo:
            for row in rows:
                await repo.upsert_code(kind, row)

    async def code_rows(self, kind: str) -> list[dict]:
        book = await self.load_codes()
        return list({"issue": book.issues, "action": book.actions, "status": book.statuses}[kind].values())


def json_text(value) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
