"""Seeding billing: demo accounts read back through the API; a bulk load whose balances equal its ledgers."""

from __future__ import annotations

import uuid

from services.billing import seed
from services.billing.ledger import CreditStatus
from services.billing.store import SqlStore
from services.cli.seed import consumer_id
from services.runtime.db import connect, open_pool


async def test_demo_accounts_are_varied_and_seeding_twice_changes_nothing(database_url):
    seed.seed_demo(database_url)
    seed.seed_demo(database_url)
    pool = await open_pool(database_url, schema="billing", min_size=1, max_size=2)
    try:
        store = SqlStore(pool)
        accounts = [await store.account(consumer_id(i)) for i in range(10)]
        entries = [await store.entries(consumer_id(i), 50) for i in range(10)]
    finally:
        await pool.close()
    assert accounts[9] is None
    assert accounts[0].balance_minor == 12_999 - 5_000 and accounts[0].terms.payment_terms == "Net 30"
    assert accounts[1].terms.status is CreditStatus.ON_HOLD
    assert accounts[7].balance_minor < 0  # a credit balance
    assert {a.currency for a in accounts[:9]} >= {"USD", "CAD", "GBP", "EUR"}
    assert [len(e) for e in entries[:9]] == [len(v[4]) for v in seed.DEMO.values()]


def test_bulk_load_gives_60_percent_accounts_with_balances_that_match_their_ledgers(database_url):
    ids = [str(uuid.uuid4()) for _ in range(3000)]
    seed.seed_bulk(database_url, ids)
    seed.seed_bulk(database_url, ids)  # again: the same consumers, not twice the rows
    with connect(database_url, schema="billing") as conn:
        (accounts,) = conn.execute(
            "SELECT count(*) FROM account WHERE consumer_id = ANY(%s::uuid[])", (ids,)
        ).fetchone()
        (mismatched,) = conn.execute(
            "SELECT count(*) FROM account a WHERE a.consumer_id = ANY(%s::uuid[]) AND a.balance_minor IS DISTINCT FROM"
            " (SELECT sum(CASE WHEN kind IN ('invoice', 'refund') THEN amount_minor ELSE -amount_minor END)"
            "  FROM ledger_entry e WHERE e.consumer_id = a.consumer_id)",
            # IS DISTINCT FROM: an account with no entries has a NULL sum, which `<>` would never count.
            (ids,),
        ).fetchone()
        statuses = dict(
            conn.execute(
                "SELECT credit_status, count(*) FROM account WHERE consumer_id = ANY(%s::uuid[]) GROUP BY 1",
                (ids,),
            ).fetchall()
        )
    assert 1600 < accounts < 2000
    assert mismatched == 0
    assert set(statuses) == {"good_standing", "on_hold", "none"}
