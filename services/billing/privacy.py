"""What billing holds about a consumer, exported and erased: SQL only (services/runtime/privacy.py runs it).

Erasure keeps every amount, so the company's totals stay true, and drops the link: the account and its
ledger move to a new random id that nothing else knows.
"""

from __future__ import annotations

import uuid

import psycopg
from crs.billing.v1 import privacy_pb2_grpc
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.runtime import privacy as runtime_privacy
from services.runtime.privacy import Keys, drop_outbox_rows


async def export(pool: AsyncConnectionPool, keys: Keys):
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        account = await (
            await cur.execute("SELECT * FROM account WHERE consumer_id = %s", (keys.consumer_id,))
        ).fetchone()
        ledger = await (
            await cur.execute(
                "SELECT * FROM ledger_entry WHERE consumer_id = %s ORDER BY posted_at, id",
                (keys.consumer_id,),
            )
        ).fetchall()
    return {"account": account, "ledger_entries": ledger}, []


async def erase(conn: psycopg.AsyncConnection, keys: Keys) -> dict[str, int]:
    if not keys.consumer_id:
        return {}
    anonymous = str(uuid.uuid4())
    moved = await conn.execute(
        """INSERT INTO account (consumer_id, currency, balance_minor, credit_limit_minor, payment_terms, net_days,
                                credit_status, created_at, updated_at)
           SELECT %s, currency, balance_minor, credit_limit_minor, payment_terms, net_days, credit_status,
                  created_at, now()
           FROM account WHERE consumer_id = %s""",
        (anonymous, keys.consumer_id),
    )
    events = await drop_outbox_rows(conn, [keys.consumer_id])
    if not moved.rowcount:
        return {"accounts_unlinked": 0, "ledger_entries_unlinked": 0, "outbox_events": events}
    entries = await conn.execute(
        "UPDATE ledger_entry SET consumer_id = %s WHERE consumer_id = %s", (anonymous, keys.consumer_id)
    )
    await conn.execute("DELETE FROM account WHERE consumer_id = %s", (keys.consumer_id,))
    return {
        "accounts_unlinked": moved.rowcount,
        "ledger_entries_unlinked": entries.rowcount,
        "outbox_events": events,
    }


def servicer(pool: AsyncConnectionPool):
    """Billing's Privacy API, ready for services.runtime.grpcio.Server."""
    return runtime_privacy.servicer("billing", privacy_pb2_grpc, pool, export, erase)
