"""An in-memory ledger store that keeps the same promises as the SQL one."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace

from services.billing.ledger import Account, Entry, IdempotencyConflict


class FakeTransaction:
    def __init__(self, store: FakeStore):
        self.store = store
        self.accounts = dict(store.accounts)
        self.ledger = list(store.ledger)
        self.keys = dict(store.keys)
        self.events: list[tuple[Entry, int, str]] = []

    async def lock_account(self, consumer_id: str, *, currency: str) -> Account:
        return self.accounts.setdefault(consumer_id, Account(consumer_id, currency))

    async def entry_by_key(self, idempotency_key: str) -> Entry | None:
        return self.keys.get(idempotency_key)

    async def insert_entry(self, entry: Entry, *, idempotency_key: str) -> None:
        if idempotency_key in self.keys:
            raise IdempotencyConflict("duplicate key")
        self.ledger.append(entry)
        self.keys[idempotency_key] = entry

    async def set_balance(self, consumer_id: str, balance_minor: int) -> None:
        self.accounts[consumer_id] = replace(self.accounts[consumer_id], balance_minor=balance_minor)

    async def entry_posted(self, entry: Entry, balance_minor: int, currency: str) -> None:
        self.events.append((entry, balance_minor, currency))

    async def commit(self) -> None:
        self.store.accounts, self.store.ledger, self.store.keys = self.accounts, self.ledger, self.keys
        self.store.events.extend(self.events)


class FakeStore:
    def __init__(self, accounts: list[Account] = ()):
        self.accounts: dict[str, Account] = {a.consumer_id: a for a in accounts}
        self.ledger: list[Entry] = []
        self.keys: dict[str, Entry] = {}
        self.events: list[tuple[Entry, int, str]] = []

    async def account(self, consumer_id: str) -> Account | None:
        return self.accounts.get(consumer_id)

    async def entries(self, consumer_id: str, limit: int) -> list[Entry]:
        mine = [e for e in self.ledger if e.consumer_id == consumer_id]
        return sorted(mine, key=lambda e: (e.posted_at, e.id), reverse=True)[:limit]

    @asynccontextmanager
    async def transaction(self):
        yield FakeTransaction(self)
