"""The ledger's rules: what an entry may be, how it moves the balance, and what a consumer's terms say.

Plain Python: the store behind it is anything that speaks the `Store` protocol (SQL in production, a
fake in the unit tests).
"""

from __future__ import annotations

import enum
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from services.billing.currencies import is_currency

MAX_REFERENCE = 200
MAX_IDEMPOTENCY_KEY = 200
# A trillion in minor units is beyond any consumer's account; larger is a unit mistake, not a sale.
MAX_AMOUNT_MINOR = 10**12
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 500


class InvalidEntry(ValueError):
    """The request cannot become a ledger entry; the message says why, in words a person understands."""


class IdempotencyConflict(ValueError):
    """The idempotency key was already used for a different entry."""


class EntryKind(enum.StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT = "credit"
    REFUND = "refund"


class CreditStatus(enum.StrEnum):
    GOOD_STANDING = "good_standing"
    ON_HOLD = "on_hold"
    NONE = "none"


# Positive balance: the consumer owes. An invoice adds to what they owe; a payment or a credit note takes
# away; a refund pays money back out, so it brings a credit balance back towards zero.
_SIGN = {EntryKind.INVOICE: 1, EntryKind.PAYMENT: -1, EntryKind.CREDIT: -1, EntryKind.REFUND: 1}


def signed_amount(kind: EntryKind, amount_minor: int) -> int:
    """How much an entry of `kind` adds to the balance."""
    return _SIGN[kind] * amount_minor


def payment_terms_label(net_days: int) -> str:
    """The usual name of the terms: "Due on receipt" for 0 days, otherwise "Net N"."""
    return "Due on receipt" if net_days == 0 else f"Net {net_days}"


@dataclass(frozen=True)
class CreditTerms:
    limit_minor: int = 0
    payment_terms: str = ""
    net_days: int = 0
    status: CreditStatus = CreditStatus.NONE

    def available_minor(self, balance_minor: int) -> int:
        """Credit still open to the consumer; none while on hold or without credit."""
        if self.status is not CreditStatus.GOOD_STANDING:
            return 0
        return max(0, self.limit_minor - max(0, balance_minor))


NO_CREDIT = CreditTerms()


@dataclass(frozen=True)
class Account:
    consumer_id: str
    currency: str
    balance_minor: int = 0
    terms: CreditTerms = NO_CREDIT


@dataclass(frozen=True)
class Summary:
    consumer_id: str
    has_account: bool
    currency: str
    balance_minor: int
    terms: CreditTerms
    as_of: datetime


@dataclass(frozen=True)
class Entry:
    consumer_id: str
    kind: EntryKind
    amount_minor: int
    currency: str
    reference: str = ""
    posted_at: datetime | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def same_request_as(self, other: Entry) -> bool:
        """Whether `other` asks for this entry again (its id and time may differ)."""
        return (self.consumer_id, self.kind, self.amount_minor, self.currency, self.reference) == (
            other.consumer_id,
            other.kind,
            other.amount_minor,
            other.currency,
            other.reference,
        )


@dataclass(frozen=True)
class Posted:
    entry: Entry
    balance_minor: int
    replayed: bool  # True when the idempotency key had been used for this entry before


def parse_consumer_id(raw: str) -> str:
    """The consumer id in canonical form; InvalidEntry when it is not a UUID."""
    try:
        return str(uuid.UUID(raw))
    except (ValueError, AttributeError, TypeError):
        raise InvalidEntry(f"consumer_id must be a UUID, not {raw[:60]!r}") from None


def validate(entry: Entry, idempotency_key: str) -> Entry:
    """Check an entry before it is posted; return it with its consumer id in canonical form."""
    consumer_id = parse_consumer_id(entry.consumer_id)
    if not idempotency_key:
        raise InvalidEntry("idempotency_key is required, so that a retried request cannot post twice")
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidEntry(f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY} characters")
    if entry.amount_minor <= 0:
        raise InvalidEntry(
            f"amount must be positive (the kind gives the direction), not {entry.amount_minor}"
        )
    if entry.amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidEntry(
            f"amount {entry.amount_minor} is larger than any account allows ({MAX_AMOUNT_MINOR})"
        )
    if not is_currency(entry.currency):
        raise InvalidEntry(
            f"currency must be an ISO 4217 code such as USD or EUR, not {entry.currency[:10]!r}"
        )
    if len(entry.reference) > MAX_REFERENCE:
        raise InvalidEntry(f"reference is longer than {MAX_REFERENCE} characters")
    return replace(entry, consumer_id=consumer_id)


def list_limit(requested: int) -> int:
    if requested < 0:
        raise InvalidEntry(f"limit must not be negative, not {requested}")
    return min(requested or DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)


class Transaction(Protocol):
    async def lock_account(self, consumer_id: str, *, currency: str) -> Account:
        """The consumer's account, locked for this transaction; opened in `currency` if there was none."""

    async def entry_by_key(self, idempotency_key: str) -> Entry | None: ...

    async def insert_entry(self, entry: Entry, *, idempotency_key: str) -> None: ...

    async def set_balance(self, consumer_id: str, balance_minor: int) -> None: ...

    async def entry_posted(self, entry: Entry, balance_minor: int, currency: str) -> None:
        """Record the `ledger_entry_posted` event, to be published after commit."""

    async def commit(self) -> None: ...


class Store(Protocol):
    async def account(self, consumer_id: str) -> Account | None: ...

    async def entries(self, consumer_id: str, limit: int) -> list[Entry]: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...


def now() -> datetime:
    return datetime.now(UTC)


async def account_summary(*, store: Store, consumer_id: str) -> Summary:
    """Balance and credit terms; a consumer without a ledger has a zero balance and no credit."""
    consumer_id = parse_consumer_id(consumer_id)
    account = await store.account(consumer_id)
    if account is None:
        return Summary(consumer_id, False, "", 0, NO_CREDIT, now())
    return Summary(consumer_id, True, account.currency, account.balance_minor, account.terms, now())


async def list_entries(*, store: Store, consumer_id: str, limit: int = 0) -> list[Entry]:
    """The consumer's entries, newest first."""
    return await store.entries(parse_consumer_id(consumer_id), list_limit(limit))


async def post_entry(*, store: Store, entry: Entry, idempotency_key: str) -> Posted:
    """Post one entry and move the balance with it; posting the same key again returns the first entry."""
    entry = validate(entry, idempotency_key)
    if entry.posted_at is None:
        entry = replace(entry, posted_at=now())
    async with store.transaction() as tx:
        # The account lock comes first: it serialises posts for one consumer, so two retries of the same
        # request cannot both miss the key and post twice.
        account = await tx.lock_account(entry.consumer_id, currency=entry.currency)
        earlier = await tx.entry_by_key(idempotency_key)
        if earlier is not None:
            if not earlier.same_request_as(entry):
                raise IdempotencyConflict(
                    f"idempotency_key {idempotency_key[:60]!r} was already used for a different entry"
                )
            return Posted(earlier, account.balance_minor, replayed=True)
        if account.currency != entry.currency:
            raise InvalidEntry(
                f"this account is kept in {account.currency}; an entry in {entry.currency} cannot be posted to it"
            )
        balance = account.balance_minor + signed_amount(entry.kind, entry.amount_minor)
        await tx.insert_entry(entry, idempotency_key=idempotency_key)
        await tx.set_balance(entry.consumer_id, balance)
        await tx.entry_posted(entry, balance, account.currency)
        await tx.commit()
    return Posted(entry, balance, replayed=False)
