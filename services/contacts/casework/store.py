"""Casework's writes, in SQL: cases and their timelines, filed calls, code tables. SQL only.

A case is one row of `contact` (with its linked calls in `contact_call`); what a change recorded goes to
`contact_event` and the outbox in the same transaction. `PostgresUnitOfWork` rolls back unless committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework import recall_store
from services.contacts.casework.domain.calls import EndedCall, PauseChange
from services.contacts.casework.domain.case import (
    PRODUCT_NAMES,
    REPORTER_NAMES,
    Case,
    Entry,
    Product,
    Reporter,
)
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.domain.fulfillments import CaseFulfillment
from services.contacts.casework.domain.sla import SlaPolicy
from services.contacts.casework.exceptions import InvalidInput
from services.contacts.casework.inbox_store import InboxRepository
from services.runtime import outbox
from services.runtime.db import UnitOfWork
from services.runtime.events import Event

_STORED_COLUMNS = (
    "id::text, reference, consumer_id::text, channel, direction, summary, status, occurred_at, call_id,"
    " reporter_name, reporter_email, reporter_phone, product_sku, product_upc, product_name,"
    " lot_code, best_by, produced_on, purchase_store, purchase_location, purchased_on, issue_code, severity,"
    " action_codes, verbatim, notes, language, assignee, escalated, escalation_reason, created_by, team, created_at,"
    " updated_at, first_response_at, resolved_at, closed_at, response_due_at, resolution_due_at,"
    " sla_breached_at, sla_breach, version, status_before_fulfillment"
)


def _fulfillments_of(case: str) -> str:
    """The case's fulfillments as one JSON object: {fulfillment id: [kind, state]}."""
    return (
        "SELECT coalesce(jsonb_object_agg(f.fulfillment_id, jsonb_build_array(f.kind, f.state)), '{}')"
        f" AS fulfillments FROM case_fulfillment f WHERE f.contact_id = {case}"
    )


CASE_COLUMNS = (
    ", ".join(f"c.{column.strip()}" for column in _STORED_COLUMNS.split(","))
    + ", ARRAY(SELECT cc.call_id FROM contact_call cc WHERE cc.contact_id = c.id ORDER BY cc.linked_at)"
    " AS call_ids, (" + _fulfillments_of("c.id") + ") AS fulfillments"
)
# The columns a case writes; the rest are the database's (reference, version, updated_at) or the filing's.
WRITTEN = (
    "consumer_id",
    "channel",
    "direction",
    "summary",
    "status",
    "occurred_at",
    *REPORTER_NAMES.values(),
    *PRODUCT_NAMES.values(),
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
    "team",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "sla_breached_at",
    "sla_breach",
    "status_before_fulfillment",
)
_INSERTED = ("id", "created_at", *WRITTEN)
_SET = ", ".join(f"{c} = %({c})s" for c in WRITTEN)


def case_from_row(row: dict) -> Case:
    return Case(
        id=row["id"],
        reference=row["reference"],
        consumer_id=row["consumer_id"],
        channel=row["channel"],
        direction=row["direction"],
        reporter=Reporter(**{k: row[column] for k, column in REPORTER_NAMES.items()}),
        product=Product(**{k: row[column] for k, column in PRODUCT_NAMES.items()}),
        issue_code=row["issue_code"],
        severity=row["severity"],
        status=row["status"],
        action_codes=list(row["action_codes"]),
        verbatim=row["verbatim"],
        notes=row["notes"],
        language=row["language"],
        assignee=row["assignee"],
        escalated=row["escalated"],
        escalation_reason=row["escalation_reason"],
        call_id=row["call_id"],
        call_ids=list(row["call_ids"]),
        summary=row["summary"],
        created_by=row["created_by"],
        team=row["team"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_response_at=row["first_response_at"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        response_due_at=row["response_due_at"],
        resolution_due_at=row["resolution_due_at"],
        sla_breached_at=row["sla_breached_at"],
        sla_breach=row["sla_breach"],
        version=row["version"],
        status_before_fulfillment=row["status_before_fulfillment"],
        fulfillments=fulfillments_from(row["fulfillments"]),
    )


def fulfillments_from(stored: dict) -> dict[str, CaseFulfillment]:
    return {fid: CaseFulfillment(kind, state) for fid, (kind, state) in stored.items()}


class CaseRepository:
    """Cases on one connection, inside the unit of work's transaction."""

    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def _rows(self, sql: str, params) -> list[dict]:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def get(self, case_id: str) -> Case | None:
        """The case, locked until the unit of work ends."""
        rows = await self._rows(
            f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.id = %s FOR UPDATE OF c", (case_id,)
        )
        return await self._with_fulfillments(case_from_row(rows[0])) if rows else None

    async def _with_fulfillments(self, case: Case) -> Case:
        """Read the fulfillments again once the case is locked: a statement that waited for the lock reads
        other tables as they were when it began, before the event that held the lock wrote its own."""
        rows = await self._rows(_fulfillments_of("%s"), (case.id,))
        case.fulfillments = fulfillments_from(rows[0]["fulfillments"])
        return case

    async def uncoded_call(self, call_id: str) -> Case | None:
        """The contact filed for `call_id`, while nobody has coded it yet; locked."""
        rows = await self._rows(
            f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.call_id = %s AND c.issue_code IS NULL FOR UPDATE OF c",
            (call_id,),
        )
        return await self._with_fulfillments(case_from_row(rows[0])) if rows else None

    async def call_extension(self, call_id: str) -> str | None:
        """The extension that took a filed call ('' when telephony named none); None when not filed."""
        rows = await self._rows("SELECT agent_extension FROM contact WHERE call_id = %s", (call_id,))
        return rows[0]["agent_extension"] if rows else None

    async def add(self, cases: list[Case]) -> None:
        """Insert new cases, all in one statement, with what they recorded; gives each its id and reference."""
        for case in cases:
            case.id = case.id or str(uuid.uuid4())
        one_row = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
        values = [case.flat() for case in cases]
        try:
            stored = await self._rows(
                f"INSERT INTO contact ({', '.join(_INSERTED)}) VALUES {', '.join([one_row] * len(cases))}"
                " RETURNING id::text, reference, created_at, updated_at, version",
                [v[c] for v in values for c in _INSERTED],
            )
        except psycopg.errors.ForeignKeyViolation:
            raise InvalidInput("consumer_id: no consumer has this id") from None
        by_id = {row["id"]: row for row in stored}
        for case in cases:
            row = by_id[case.id]
            case.reference, case.created_at, case.updated_at, case.version = (
                row["reference"],
                row["created_at"],
                row["updated_at"],
                row["version"],
            )
        await self._record(cases)
        await recall_store.route_cases(self.conn, cases)

    async def save(self, case: Case) -> None:
        """Write a changed case, a version up, with what it recorded."""
        try:
            rows = await self._rows(
                f"UPDATE contact SET {_SET}, updated_at = now(), version = version + 1 WHERE id = %(id)s"
                " RETURNING updated_at, version",
                case.flat(),
            )
        except psycopg.errors.ForeignKeyViolation:
            raise InvalidInput("consumer_id: no consumer has this id") from None
        case.updated_at, case.version = rows[0]["updated_at"], rows[0]["version"]
        await self._record([case])
        await recall_store.route_cases(self.conn, [case], again=True)
        await self.save_fulfillments(case)

    async def save_fulfillments(self, case: Case) -> None:
        """Keep what the case heard of its fulfillments in this unit of work (the case's row is locked)."""
        heard = sorted(set(case.fulfillments_heard))
        if not heard:
            return
        await self.conn.execute(
            "INSERT INTO case_fulfillment (fulfillment_id, contact_id, kind, state)"
            " SELECT f, %s, k, s FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS u (f, k, s)"
            " ON CONFLICT (fulfillment_id) DO UPDATE SET kind = excluded.kind, state = excluded.state,"
            " updated_at = now() WHERE case_fulfillment.contact_id = excluded.contact_id",
            (
                case.id,
                heard,
                [case.fulfillments[f].kind for f in heard],
                [case.fulfillments[f].state for f in heard],
            ),
        )

    async def _record(self, cases: list[Case]) -> None:
        entries: list[tuple[str, Entry]] = [(case.id, entry) for case in cases for entry in case.timeline]
        if entries:
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
        links = [(case.id, call_id) for case in cases for call_id in case.calls_linked]
        if links:
            await self.conn.execute(
                "INSERT INTO contact_call (contact_id, call_id)"
                " SELECT * FROM unnest(%s::uuid[], %s::text[]) ON CONFLICT DO NOTHING",
                ([cid for cid, _ in links], [call for _, call in links]),
            )

    async def due_for_breach(self, now: datetime, limit: int) -> list[Case]:
        """Open cases past a due time and not yet flagged, locked for this sweep."""
        rows = await self._rows(
            f"SELECT {CASE_COLUMNS} FROM contact c"
            " WHERE c.sla_breached_at IS NULL AND c.resolved_at IS NULL AND c.issue_code IS NOT NULL"
            " AND ((c.first_response_at IS NULL AND c.response_due_at < %(now)s) OR c.resolution_due_at < %(now)s)"
            " ORDER BY least(c.response_due_at, c.resolution_due_at) LIMIT %(limit)s FOR UPDATE OF c SKIP LOCKED",
            {"now": now, "limit": limit},
        )
        return [case_from_row(row) for row in rows]

    # -- filed calls --

    async def unidentified_caller(self, caller_key: str) -> str:
        rows = await self._rows(
            "INSERT INTO unidentified_caller (number_key) VALUES (%s)"
            " ON CONFLICT (number_key) DO UPDATE SET last_seen_at = now() RETURNING id::text AS id",
            (caller_key,),
        )
        return rows[0]["id"]

    async def file_call(
        self, call: EndedCall, *, consumer_id: str | None, unidentified_caller_id: str | None
    ) -> str | None:
        """File the call as an uncoded contact; None when it is filed already (a redelivered event)."""
        rows = await self._rows(
            "INSERT INTO contact (consumer_id, unidentified_caller_id, channel, direction, summary, status,"
            " occurred_at, call_id, duration_seconds, recording_key, caller_number, agent_extension,"
            " recording_paused)"
            " VALUES (%(consumer_id)s, %(unidentified)s, 'phone', 'inbound', %(summary)s, 'new',"
            " %(occurred_at)s, %(call_id)s, %(duration)s, %(recording_key)s, %(number)s, %(extension)s,"
            " %(paused)s)"
            " ON CONFLICT (call_id) DO NOTHING RETURNING id::text AS id",
            {
                "consumer_id": consumer_id,
                "unidentified": unidentified_caller_id,
                "summary": call.summary,
                "occurred_at": call.started_at,
                "call_id": call.call_id,
                "duration": call.duration_seconds,
                "recording_key": call.recording_key or None,
                "number": call.number,
                "extension": call.extension,
                "paused": Jsonb([span.as_dict() for span in call.paused]),
            },
        )
        return rows[0]["id"] if rows else None

    async def record_pause_change(self, change: PauseChange) -> bool:
        """Keep a pause or resumption with its call; False when the event was kept before."""
        rows = await self._rows(
            "INSERT INTO call_recording_pause"
            " (event_id, call_id, paused, actor, actor_role, occurred_at, offset_seconds)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            (
                change.event_id,
                change.call_id,
                change.paused,
                change.actor,
                change.actor_role,
                change.at,
                change.offset_seconds,
            ),
        )
        return bool(rows)

    # -- code tables --

    async def upsert_code(self, kind: str, row: dict) -> None:
        if kind == "issue":
            await self.conn.execute(
                "INSERT INTO issue_code (code, parent, label, severity, auto_escalate, active, position)"
                " VALUES (%(code)s, %(parent)s, %(label)s, %(severity)s, %(auto_escalate)s, %(active)s,"
                " %(position)s)"
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


class PostgresUnitOfWork(UnitOfWork):
    """One transaction over casework's tables; it rolls back unless `commit()` was called."""

    cases: CaseRepository
    inbox: InboxRepository

    async def __aenter__(self) -> PostgresUnitOfWork:
        await super().__aenter__()
        self.cases = CaseRepository(self.conn)
        self.inbox = InboxRepository(self.conn)
        return self

    async def publish(self, events: list[Event]) -> None:
        """Into the outbox: the relay sends them once this transaction commits."""
        if events:
            await outbox.add_events(self.conn, events)


async def load_codes(pool: AsyncConnectionPool) -> CodeBook:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        book = CodeBook()
        await cur.execute(
            "SELECT code, parent, label, severity, auto_escalate, active, position FROM issue_code"
            " ORDER BY position, code"
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


class CodeTables:
    """The code tables on their own, for `crs codes`: read them, or write a set in one transaction."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def load_codes(self) -> CodeBook:
        return await load_codes(self.pool)

    async def code_rows(self, kind: str) -> list[dict]:
        book = await self.load_codes()
        return list({"issue": book.issues, "action": book.actions, "status": book.statuses}[kind].values())

    async def upsert_codes(self, kind: str, rows: list[dict]) -> None:
        async with PostgresUnitOfWork(self.pool) as uow:
            for row in rows:
                await uow.cases.upsert_code(kind, row)
            await uow.commit()
