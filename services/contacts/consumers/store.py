"""The consumer directory's tables: SQL only. Everything here runs inside the caller's unit of work or a pooled read."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.contacts.consumers import phones
from services.contacts.consumers.model import (
    Consumer,
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

    async def with_email(self, address: str, limit: int) -> list[Consumer]:
        cursor = await self.conn.execute(
            "SELECT c.id::text FROM email e JOIN consumer c ON c.id = e.consumer_id"
            " WHERE lower(e.address) = lower(%s)"
            " ORDER BY c.last_contact_at DESC NULLS LAST, c.created_at LIMIT %s",
            (address, limit),
        )
        return [await self.get(row[0]) for row in await cursor.fetchall()]

    async def exists(self, consumer_id: str) -> bool:
        cursor = await self.conn.execute("SELECT 1 FROM consumer WHERE id = %s", (consumer_id,))
        return await cursor.fetchone() is not None

    async def contacted(self, consumer_id: str, at: datetime) -> None:
        """The consumer was in touch at `at`: keeps the latest contact, for ranking callers."""
        await self.conn.execute(
            "UPDATE consumer SET last_contact_at = greatest(last_contact_at, %s) WHERE id = %s",
            (at, consumer_id),
        )


class ContactsUnitOfWork(UnitOfWork):
    """One transaction over the contacts schema; events added here are published only if it commits."""

    consumers: ConsumerRepository

    async def __aenter__(self) -> ContactsUnitOfWork:
        await super().__aenter__()
        self.consumers = ConsumerRepository(self.conn)
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

    async def consumer_exists(self, consumer_id: str) -> bool:
        async with autocommit(self.pool) as conn:
            return await ConsumerRepository(conn).exists(consumer_id)

    async def contacted(self, consumer_id: str, at: datetime) -> None:
        async with autocommit(self.pool) as conn:
            await ConsumerRepository(conn).contacted(consumer_id, at)

    async def consumers_with_email(self, address: str, limit: int = 5) -> list[Consumer]:
        async with autocommit(self.pool) as conn:
            return await ConsumerRepository(conn).with_email(address, limit)

    async def get_consumer(self, consumer_id: str) -> Consumer | None:
        async with self.pool.connection() as conn:
            return await ConsumerRepository(conn).get(consumer_id)

    async def list_consumers(
        self, *, after: tuple[datetime, str] | None, limit: int, name_prefix: str | None
    ) -> list[Consumer]:
        async with self.pool.connection() as conn:
            return await ConsumerRepository(conn).list_page(after=after, limit=limit, name_prefix=name_prefix)
