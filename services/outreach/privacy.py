"""What outreach holds about a consumer, exported and erased: SQL only (services/runtime/privacy.py runs it).

Erasure deletes the consumer's read-model rows, consent, surveys (their answers with them), purchases,
reminders and shipping notices. A campaign's recipient row is kept with its status but unlinked (a new
random id, no address), so the campaign's counts stay true and nothing points at the person.
"""

from __future__ import annotations

import psycopg
from crs.outreach.v1 import privacy_pb2_grpc
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.runtime import privacy as runtime_privacy
from services.runtime.privacy import Keys, drop_outbox_rows

# Each kind the consumer's rows are counted and exported by, and the table that holds them.
DELETED = (
    ("consents", "consent"),
    ("surveys", "survey"),
    ("purchases", "purchase"),
    ("purchase_facts", "purchase_fact"),
    ("reorder_reminders", "reorder_reminder"),
    ("shipping_notices", "shipping_notice"),
    ("consumers", "consumer"),
)
EXPORTED = (*DELETED, ("campaign_recipients", "campaign_recipient"), ("contact_facts", "contact_fact"))


async def export(pool: AsyncConnectionPool, keys: Keys):
    data: dict[str, list[dict]] = {}
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        for kind, table in EXPORTED:
            rows = await cur.execute(f"SELECT * FROM {table} WHERE consumer_id = %s", (keys.consumer_id,))
            data[kind] = await rows.fetchall()
        answers = await cur.execute(
            "SELECT a.* FROM survey_answer a JOIN survey s ON s.id = a.survey_id WHERE s.consumer_id = %s"
            " ORDER BY a.answered_at",
            (keys.consumer_id,),
        )
        data["survey_answers"] = await answers.fetchall()
    return data, []


async def erase(conn: psycopg.AsyncConnection, keys: Keys) -> dict[str, int]:
    if not keys.consumer_id:
        return {}
    row = await (
        await conn.execute("SELECT email FROM consumer WHERE consumer_id = %s", (keys.consumer_id,))
    ).fetchone()
    email = row[0] if row else ""
    erased = {"outbox_events": await drop_outbox_rows(conn, [keys.consumer_id, email])}
    answers = await conn.execute(
        "DELETE FROM survey_answer WHERE survey_id IN (SELECT id FROM survey WHERE consumer_id = %s)",
        (keys.consumer_id,),
    )
    erased["survey_answers"] = answers.rowcount
    for kind, table in DELETED:
        deleted = await conn.execute(f"DELETE FROM {table} WHERE consumer_id = %s", (keys.consumer_id,))
        erased[kind] = deleted.rowcount
    recipients = await conn.execute(
        "UPDATE campaign_recipient SET consumer_id = gen_random_uuid(), email = '' WHERE consumer_id = %s",
        (keys.consumer_id,),
    )
    erased["campaign_recipients_unlinked"] = recipients.rowcount
    facts = await conn.execute(
        "UPDATE contact_fact SET consumer_id = NULL WHERE consumer_id = %s", (keys.consumer_id,)
    )
    erased["contact_facts_unlinked"] = facts.rowcount
    return erased


def servicer(pool: AsyncConnectionPool):
    """Outreach's Privacy API, ready for services.runtime.grpcio.Server."""
    return runtime_privacy.servicer("outreach", privacy_pb2_grpc, pool, export, erase)
