"""The contacts schema: SQL only. Everything here runs inside the caller's unit of work or a pooled read."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.contacts import phones
from services.contacts.model import (
    Consumer,
    ContactSummary,
    Email,
    MatchKind,
    NumberHit,
    Phone,
    PostalAddress,
)
from services.runtime import outbox
from services.runtime.db import UnitOfWork, autocommit
from services.runtime.events import Event

SCHEMA = "contacts"

_HITS_SQL = """
SELECT p.consumer_id::text, p.kind, p.e164, p.valid_to IS NULL AS current,
       c.name, c.language, c.last_contact_at
FROM (
    (SELECT consumer_id, 1 AS kind, e164, valid_to FROM phone_number WHERE e164 = %(e164)s LIMIT %(limit)s)
    UNION ALL
    (SELECT consumer_id, 2, e164, valid_to FROM phone_number
      WHERE national_number = %(national)s AND e164 <> %(e164)s LIMIT %(limit)s)
    UNION ALL
    (SELECT consumer_id, 3, e164, valid_to FROM phone_number
      WHERE suffix = %(suffix)s AND national_number <> %(national)s AND %(use_suffix)s LIMIT %(limit)s)
) p
JOIN consumer c ON c.id = p.consumer_id
"""

_RECENT_SQL = """
SELECT r.id::text, r.consumer_id::text, r.channel, r.direction, r.summary, r.status, r.occurred_at,
       r.call_id, r.duration_seconds, r.recording_key
FROM unnest(%(ids)s::uuid[]) AS wanted(id)
CROSS JOIN LATERAL (
    SELECT * FROM contact WHERE consumer_id = wanted.id ORDER BY occurred_at DESC LIMIT %(limit)s
) r
"""


def _summary(row) -> ContactSummary:
    return ContactSummary(
        id=row[0],
        consumer_id=row[1],
        channel=row[2],
        direction=row[3],
        summary=row[4],
        status=row[5],
        occurred_at=row[6],
        call_id=row[7],
        duration_seconds=row[8],
        recording_key=row[9],
    )


class ConsumerRepository:
    """Consumers and their numbers, emails and addresses, on one connection."""

    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def add(self, consumer: Consumer) -> str:
        row = await (
            await self.conn.execute(
                "INSERT INTO consumer (name, language) VALUES (%s, %s) RETURNING id::text",
                (consumer.name, consumer.language),
            )
        ).fetchone()
        await self._write_children(row[0], consumer)
        return row[0]

    async def update(self, consumer_id: str, consumer: Consumer, fields: set[str]) -> bool:
        columns = {f: getattr(consumer, f) for f in ("name", "language") if f in fields}
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        cursor = await self.conn.execute(
            f"UPDATE consumer SET {assignments + ', ' if assignments else ''}updated_at = now() "
            "WHERE id = %(id)s",
            {**columns, "id": consumer_id},
        )
        if cursor.rowcount == 0:
            return False
        await self._write_children(consumer_id, consumer, only=fields, replace=True)
        return True

    async def _write_children(
        self, consumer_id: str, consumer: Consumer, only: set[str] | None = None, replace: bool = False
    ) -> None:
        def wanted(name: str) -> bool:
            return only is None or name in only

        if wanted("phones"):
            if replace:
                await self.conn.execute("DELETE FROM phone_number WHERE consumer_id = %s", (consumer_id,))
            rows = []
            for position, phone in enumerate(consumer.phones):
                country_code, national, suffix = phones.keys_for(phone.number)
                rows.append(
                    (
                        consumer_id,
                        position,
                        phone.number,
                        country_code,
                        national,
                        suffix,
                        phone.type,
                        phone.valid_from,
                        phone.valid_to,
                    )
                )
            if rows:
                async with self.conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO phone_number (consumer_id, position, e164, country_code, national_number,"
                        " suffix, type, valid_from, valid_to)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)",
                        rows,
                    )
        if wanted("emails"):
            if replace:
                await self.conn.execute("DELETE FROM email WHERE consumer_id = %s", (consumer_id,))
            if consumer.emails:
                async with self.conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO email (consumer_id, position, address, type) VALUES (%s, %s, %s, %s)",
                        [(consumer_id, i, e.address, e.type) for i, e in enumerate(consumer.emails)],
                    )
        if wanted("addresses"):
            if replace:
                await self.conn.execute("DELETE FROM postal_address WHERE consumer_id = %s", (consumer_id,))
            if consumer.addresses:
                async with self.conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO postal_address (consumer_id, position, region_code, address_lines, locality,"
                        " administrative_area, postal_code, sorting_code, type)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                consumer_id,
                                i,
                                a.region_code,
                                a.address_lines,
                                a.locality,
                                a.administrative_area,
                                a.postal_code,
                                a.sorting_code,
                                a.type,
                            )
                            for i, a in enumerate(consumer.addresses)
                        ],
                    )

    async def get(self, consumer_id: str) -> Consumer | None:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT id::text, name, language, created_at, updated_at, last_contact_at"
                " FROM consumer WHERE id = %s",
                (consumer_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            consumer = Consumer(**row)
            await cur.execute(
                "SELECT id::text, e164 AS number, type, valid_from, valid_to FROM phone_number"
                " WHERE consumer_id = %s ORDER BY position",
                (consumer_id,),
            )
            consumer.phones = [Phone(**r) for r in await cur.fetchall()]
            await cur.execute(
                "SELECT address, type FROM email WHERE consumer_id = %s ORDER BY position", (consumer_id,)
            )
            consumer.emails = [Email(**r) for r in await cur.fetchall()]
            await cur.execute(
                "SELECT region_code, address_lines, locality, administrative_area, postal_code, sorting_code, type"
                " FROM postal_address WHERE consumer_id = %s ORDER BY position",
                (consumer_id,),
            )
            consumer.addresses = [PostalAddress(**r) for r in await cur.fetchall()]
        return consumer

    async def list_page(
        self, *, after: tuple[datetime, str] | None, limit: int, name_prefix: str | None
    ) -> list[Consumer]:
        clauses, params = [], {"limit": limit}
        if after:
            clauses.append("(created_at, id) > (%(after_at)s, %(after_id)s)")
            params.update(after_at=after[0], after_id=after[1])
        if name_prefix:
            clauses.append("lower(name) LIKE %(prefix)s")
            params["prefix"] = (
                name_prefix.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        cursor = await self.conn.execute(
            f"SELECT id::text FROM consumer {where} ORDER BY created_at, id LIMIT %(limit)s", params
        )
        return [await self.get(row[0]) for row in await cursor.fetchall()]

    async def number_hits(self, *, number: phones.PhoneNumber, limit: int) -> list[NumberHit]:
        cursor = await self.conn.execute(
            _HITS_SQL,
            {
                "e164": number.e164,
                "national": number.national_number,
                "suffix": number.suffix,
                # Fewer digits than a suffix are not a suffix match: they would match half the directory.
                "use_suffix": len(number.national_number) >= phones.SUFFIX_DIGITS,
                "limit": limit,
            },
        )
        return [
            NumberHit(row[0], MatchKind(row[1]), row[2], row[3], row[4], row[5], row[6])
            for row in await cursor.fetchall()
        ]

    async def recent_contacts(
        self, *, consumer_ids: list[str], limit: int
    ) -> dict[str, list[ContactSummary]]:
        cursor = await self.conn.execute(_RECENT_SQL, {"ids": consumer_ids, "limit": limit})
        found: dict[str, list[ContactSummary]] = {}
        for row in await cursor.fetchall():
            found.setdefault(row[1], []).append(_summary(row))
        return found


class CallRepository:
    """Calls filed as contacts, on a consumer or on an unidentified caller."""

    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def unidentified_caller(self, number_key: str) -> str:
        row = await (
            await self.conn.execute(
                "INSERT INTO unidentified_caller (number_key) VALUES (%s)"
                " ON CONFLICT (number_key) DO UPDATE SET last_seen_at = now() RETURNING id::text",
                (number_key,),
            )
        ).fetchone()
        return row[0]

    async def add_call(
        self,
        *,
        consumer_id: str | None,
        unidentified_caller_id: str | None,
        call_id: str,
        summary: str,
        status: str,
        occurred_at: datetime,
        duration_seconds: float,
        recording_key: str | None,
        caller_number: str = "",
    ) -> str | None:
        """File the call; None when this call is already filed (a redelivered event)."""
        row = await (
            await self.conn.execute(
                "WITH filed AS (INSERT INTO contact (consumer_id, unidentified_caller_id, channel, direction,"
                " summary, status, occurred_at, call_id, duration_seconds, recording_key, caller_number)"
                " VALUES (%(consumer_id)s, %(unidentified)s, 'phone', 'inbound', %(summary)s, %(status)s,"
                " %(occurred_at)s, %(call_id)s, %(duration)s, %(recording_key)s, %(caller_number)s)"
                " ON CONFLICT (call_id) DO NOTHING RETURNING id, consumer_id, occurred_at),"
                " touched AS (UPDATE consumer c SET last_contact_at = greatest(c.last_contact_at, f.occurred_at)"
                " FROM filed f WHERE c.id = f.consumer_id)"
                " SELECT id::text FROM filed",
                {
                    "consumer_id": consumer_id,
                    "unidentified": unidentified_caller_id,
                    "summary": summary,
                    "status": status,
                    "occurred_at": occurred_at,
                    "call_id": call_id,
                    "duration": duration_seconds,
                    "recording_key": recording_key,
                    "caller_number": caller_number,
                },
            )
        ).fetchone()
        return row[0] if row else None

    async def contacts_of_unidentified(self, number_key: str, limit: int) -> list[ContactSummary]:
        cursor = await self.conn.execute(
            "SELECT c.id::text, c.consumer_id::text, c.channel, c.direction, c.summary, c.status, c.occurred_at,"
            " c.call_id, c.duration_seconds, c.recording_key FROM contact c"
            " JOIN unidentified_caller u ON u.id = c.unidentified_caller_id"
            " WHERE u.number_key = %s ORDER BY c.occurred_at DESC LIMIT %s",
            (number_key, limit),
        )
        return [_summary(row) for row in await cursor.fetchall()]


class ContactsUnitOfWork(UnitOfWork):
    """One transaction over the contacts schema; events added here are published only if it commits."""

    consumers: ConsumerRepository
    calls: CallRepository

    async def __aenter__(self) -> ContactsUnitOfWork:
        await super().__aenter__()
        self.consumers = ConsumerRepository(self.conn)
        self.calls = CallRepository(self.conn)
        return self

    async def add_event(self, event: Event) -> None:
        await outbox.add_event(self.conn, event)


class ContactsStore:
    """Entry to the contacts schema: units of work for changes, pooled reads for the hot paths."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    def unit_of_work(self) -> ContactsUnitOfWork:
        return ContactsUnitOfWork(self.pool)

    async def number_hits(self, *, number: phones.PhoneNumber, limit: int) -> list[NumberHit]:
        async with autocommit(self.pool) as conn:
            return await ConsumerRepository(conn).number_hits(number=number, limit=limit)

    async def recent_contacts(
        self, *, consumer_ids: list[str], limit: int
    ) -> dict[str, list[ContactSummary]]:
        async with autocommit(self.pool) as conn:
            return await ConsumerRepository(conn).recent_contacts(consumer_ids=consumer_ids, limit=limit)

    async def get_consumer(self, consumer_id: str) -> Consumer | None:
        async with self.pool.connection() as conn:
            return await ConsumerRepository(conn).get(consumer_id)

    async def list_consumers(
        self, *, after: tuple[datetime, str] | None, limit: int, name_prefix: str | None
    ) -> list[Consumer]:
        async with self.pool.connection() as conn:
            return await ConsumerRepository(conn).list_page(after=after, limit=limit, name_prefix=name_prefix)
