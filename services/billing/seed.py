"""Demo and benchmark data for billing: accounts with credit terms, and ledgers whose sum is the balance.

Seeding loads data; it is not business activity, so it publishes no events.
"""

from __future__ import annotations

import io
import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from services.billing.ledger import CreditStatus, EntryKind, payment_terms_label, signed_amount
from services.cli.seed import consumer_id
from services.runtime.db import connect, copy_text, stage_ids

ENTRIES_NAMESPACE = uuid.UUID("3b0c8a4e-6f2d-4c1a-9e57-1d2f3a4b5c6d")
CHUNK = 50_000

# consumer index: (currency, credit limit, net days, status, [(kind, amount), ...]); index 9 has no account.
DEMO = {
    0: ("USD", 50_000, 30, CreditStatus.GOOD_STANDING, [("invoice", 12_999), ("payment", 5_000)]),
    1: ("USD", 25_000, 30, CreditStatus.ON_HOLD, [("invoice", 31_250), ("invoice", 4_599)]),
    2: ("USD", 0, 0, CreditStatus.NONE, [("invoice", 2_499), ("payment", 2_499)]),
    3: ("USD", 100_000, 45, CreditStatus.GOOD_STANDING, [("invoice", 8_750), ("credit", 1_500)]),
    4: ("CAD", 30_000, 30, CreditStatus.GOOD_STANDING, [("invoice", 6_400)]),
    5: ("USD", 10_000, 15, CreditStatus.GOOD_STANDING, [("payment", 3_000), ("refund", 1_000)]),
    6: (
        "GBP",
        40_000,
        60,
        CreditStatus.GOOD_STANDING,
        [("invoice", 15_000), ("payment", 15_000), ("invoice", 899)],
    ),
    7: ("USD", 0, 0, CreditStatus.NONE, [("credit", 1_999)]),
    8: ("EUR", 20_000, 30, CreditStatus.GOOD_STANDING, [("invoice", 4_500), ("payment", 2_000)]),
}


def _terms_label(net_days: int, status: CreditStatus) -> str:
    return "" if status is CreditStatus.NONE else payment_terms_label(net_days)


def seed_demo(database_url: str) -> None:
    """Accounts for demo consumers 0 to 8 (one on hold, one with a credit balance); running it again changes nothing."""
    today = datetime.now(UTC).replace(second=0, microsecond=0)
    with connect(database_url, schema="billing") as conn:
        for i, (currency, limit, net_days, status, entries) in DEMO.items():
            consumer = consumer_id(i)
            conn.execute(
                "INSERT INTO account (consumer_id, currency, credit_limit_minor, payment_terms, net_days, credit_status)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (consumer_id) DO UPDATE SET"
                " credit_limit_minor = excluded.credit_limit_minor, payment_terms = excluded.payment_terms,"
                " net_days = excluded.net_days, credit_status = excluded.credit_status",
                (consumer, currency, limit, _terms_label(net_days, status), net_days, status.value),
            )
            for n, (kind, amount) in enumerate(entries):
                conn.execute(
                    "INSERT INTO ledger_entry"
                    " (id, consumer_id, kind, amount_minor, currency, reference, posted_at, idempotency_key)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING",
                    (
                        str(uuid.uuid5(ENTRIES_NAMESPACE, f"demo/{consumer}/{n}")),
                        consumer,
                        kind,
                        amount,
                        currency,
                        f"{kind[:3].upper()}-{1000 + 10 * i + n}",
                        today - timedelta(days=40 - 12 * n),
                        f"demo/{consumer}/{n}",
                    ),
                )
            # The balance is the sum of the ledger, whatever it held before.
            conn.execute(
                "UPDATE account SET balance_minor = (SELECT coalesce(sum(CASE WHEN kind IN ('invoice', 'refund')"
                " THEN amount_minor ELSE -amount_minor END), 0) FROM ledger_entry WHERE consumer_id = %s)"
                " WHERE consumer_id = %s",
                (consumer, consumer),
            )
        conn.commit()


def _account_for(rng: random.Random) -> tuple[str, int, int, CreditStatus]:
    currency = "USD" if rng.random() < 0.85 else rng.choice(("CAD", "GBP", "EUR"))
    roll = rng.random()
    if roll < 0.2:
        return currency, 0, 0, CreditStatus.NONE
    net_days = rng.choice((15, 30, 30, 30, 45, 60))
    status = CreditStatus.ON_HOLD if roll > 0.92 else CreditStatus.GOOD_STANDING
    return currency, rng.choice((10_000, 25_000, 50_000, 100_000)), net_days, status


def seed_bulk(database_url: str, consumer_ids: list[str]) -> None:
    """Accounts for 60% of `consumer_ids` with 1 to 4 entries each, loaded with COPY; replaces theirs."""
    today = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = random.Random(20240601)
    kinds = (EntryKind.INVOICE, EntryKind.INVOICE, EntryKind.PAYMENT, EntryKind.CREDIT)
    with connect(database_url, schema="billing") as conn:
        conn.execute("SET synchronous_commit = off")
        _forget(conn, consumer_ids)
        for start in range(0, len(consumer_ids), CHUNK):
            accounts, entries = io.StringIO(), io.StringIO()
            for consumer in consumer_ids[start : start + CHUNK]:
                if rng.random() >= 0.6:
                    continue
                currency, limit, net_days, status = _account_for(rng)
                balance = 0
                for n in range(rng.randint(1, 4)):
                    kind = kinds[rng.randrange(4)]
                    amount = rng.randint(199, 25_000)
                    balance += signed_amount(kind, amount)
                    posted = (today - timedelta(days=rng.randint(1, 365))).isoformat()
                    entry_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                    entries.write(
                        f"{entry_id}\t{consumer}\t{kind.value}\t{amount}\t{currency}\tB-{n}\t{posted}\n"
                    )
                terms = _terms_label(net_days, status)
                accounts.write(
                    f"{consumer}\t{currency}\t{balance}\t{limit}\t{terms}\t{net_days}\t{status.value}\n"
                )
            copy_text(
                conn,
                "account",
                "consumer_id, currency, balance_minor, credit_limit_minor, payment_terms, net_days, credit_status",
                accounts.getvalue(),
            )
            copy_text(
                conn,
                "ledger_entry",
                "id, consumer_id, kind, amount_minor, currency, reference, posted_at",
                entries.getvalue(),
            )
        conn.commit()
        conn.execute("ANALYZE account; ANALYZE ledger_entry")


def _forget(conn: psycopg.Connection, consumer_ids: list[str]) -> None:
    """Remove what a previous bulk load gave these consumers, so loading again gives the same data."""
    stage_ids(conn, consumer_ids, table="seed_consumer")
    (already,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM account a JOIN seed_consumer s ON s.id = a.consumer_id LIMIT 1) x"
    ).fetchone()
    if already:
        conn.execute("DELETE FROM ledger_entry e USING seed_consumer s WHERE e.consumer_id = s.id")
        conn.execute("DELETE FROM account a USING seed_consumer s WHERE a.consumer_id = s.id")
