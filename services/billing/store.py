"""The ledger in PostgreSQL (schema `billing`): SQL only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.billing.convert import entry_posted_event
from services.billing.ledger import Account, CreditStatus, CreditTerms, Entry, EntryKind, IdempotencyConflict
from services.runtime import outbox
from services.runtime.db import UnitOfWork, autocommit

SOURCE = "billing"
ACCOUNT_COLUMNS = (
    "consumer_id, currency, balance_minor, credit_limit_minor, payment_terms, net_days, credit_status"
)
ENTRY_COLUMNS = "id, consumer_id, kind, amount_minor, currency, reference, posted_at"


def _account(row) -> Account:
    consumer_id, currency, balance, limit, terms, net_days, status = row
    return Account(
        consumer_id=str(consumer_id),
        currency=currency,
        balance_minor=balance,
        terms=CreditTerms(limit, terms, net_days, CreditStatus(status)),
    )


def _entry(row) -> Entry:
    entry_id, consumer_id, kind, amount, currency, reference, posted_at = row
    return Entry(
        id=str(entry_id),
        consumer_id=str(consumer_id),
        kind=EntryKind(kind),
        amount_minor=amount,
        currency=currency,
        reference=reference,
        posted_at=posted_at,
    )


class SqlTransaction:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    @property
    def conn(self) -> psycopg.AsyncConnection:
        assert self.uow.conn is not None
        return self.uow.conn

    async def lock_account(self, consumer_id: str, *, currency: str) -> Account:
        await self.conn.execute(
            "INSERT INTO account (consumer_id, currency) VALUES (%s, %s) ON CONFLICT (consumer_id) DO NOTHING",
            (consumer_id, currency),
        )
        cursor = await self.conn.execute(
            f"SELECT {ACCOUNT_COLUMNS} FROM account WHERE consumer_id = %s FOR UPDATE", (consumer_id,)
        )
        return _account(await cursor.fetchone())

    async def entry_by_key(self, idempotency_key: str) -> Entry | None:
        cursor = await self.conn.execute(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entry WHERE idempotency_key = %s", (idempotency_key,)
        )
        row = await cursor.fetchone()
        return _entry(row) if row else None

    async def insert_entry(self, entry: Entry, *, idempotency_key: str) -> None:
        try:
            await self.conn.execute(
                "INSERT INTO ledger_entry"
                " (id, consumer_id, kind, amount_minor, currency, reference, posted_at, idempotency_key)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    entry.id,
                    entry.consumer_id,
                    entry.kind.value,
                    entry.amount_minor,
                    entry.currency,
                    entry.reference,
                    entry.posted_at,
                    idempotency_key,
                ),
            )
        except psycopg.errors.UniqueViolation:
            # Only a concurrent post for another consumer with the same key can get here: posts for one
            # consumer are serialised by the account lock.
            raise IdempotencyConflict(
                f"idempotency_key {idempotency_key[:60]!r} was already used for a different entry"
            ) from None

    async def set_balance(self, consumer_id: str, balance_minor: int) -> None:
        await self.conn.execute(
            "UPDATE account SET balance_minor = %s, updated_at = now() WHERE consumer_id = %s",
            (balance_minor, consumer_id),
        )

    async def entry_posted(self, entry: Entry, balance_minor: int, currency: str) -> None:
        await outbox.add(
            self.conn,
            source=SOURCE,
            type="ledger_entry_posted",
            message=entry_posted_event(entry, balance_minor, currency),
            correlation_id=entry.id,
        )

    async def commit(self) -> None:
        await self.uow.commit()


class SqlStore:
    """Reads are one indexed query each, on a connection borrowed from the long-lived pool."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _read(self, query: str, params: tuple) -> list[tuple]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def account(self, consumer_id: str) -> Account | None:
        rows = await self._read(
            f"SELECT {ACCOUNT_COLUMNS} FROM account WHERE consumer_id = %s", (consumer_id,)
        )
        return _account(rows[0]) if rows else None

    async def entries(self, consumer_id: str, limit: int) -> list[Entry]:
        rows = await self._read(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entry WHERE consumer_id = %s"
            " ORDER BY posted_at DESC, id DESC LIMIT %s",
            (consumer_id, limit),
        )
        return [_entry(row) for row in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        async with UnitOfWork(self.pool) as uow:
            yield SqlTransaction(uow)
