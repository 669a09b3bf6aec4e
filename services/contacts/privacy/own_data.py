"""What contacts itself holds about a consumer, exported and erased. SQL and the redaction of free text.

Erasure keeps every case as a case: its product, lot, issue, severity, status, dates, channel and region
stay, so the early warning and the trends count it as before. What pointed at the person goes: the link
to the consumer, the reporter fields, the number a call came from, the recording key, and every mention
of their name, numbers and emails in verbatims, notes, summaries and the timeline's before and after
values. Their unidentified-caller rows, the unpublished events that name them, and finally the consumer
with their numbers, emails and addresses are deleted.
"""

from __future__ import annotations

import psycopg
from crs.contacts.v1 import events_pb2
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.contacts.privacy import workflow
from services.contacts.privacy.redact import MARK, Terms, redact, scrub_changes
from services.runtime import outbox
from services.runtime.privacy import Keys, drop_outbox_rows

# Every contact of the consumer: linked to them, or filed from one of their numbers before anyone linked it.
_THEIR_CONTACTS = """
    (consumer_id = %(consumer)s
     OR (consumer_id IS NULL AND caller_number <> '' AND caller_number = ANY(%(numbers)s))
     OR unidentified_caller_id IN (SELECT id FROM unidentified_caller WHERE number_key = ANY(%(numbers)s)))
"""
_CONTACT_COLUMNS = (
    "id, reference, consumer_id, channel, direction, summary, status, occurred_at, call_id, duration_seconds,"
    " recording_key, caller_number, reporter_name, reporter_email, reporter_phone, product_sku, product_upc,"
    " product_name, lot_code, best_by, produced_on, purchase_store, purchase_location, purchased_on, issue_code,"
    " severity, action_codes, verbatim, notes, language, assignee, escalated, escalation_reason, created_by,"
    " created_at, updated_at, first_response_at, resolved_at, closed_at"
)

# A health-and-safety case still open and referred to legal or regulatory reporting holds the erasure.
_HOLDS_SQL = """
SELECT c.reference, c.issue_code, c.status FROM contact c JOIN issue_code i ON i.code = c.issue_code
WHERE c.consumer_id = %s AND i.auto_escalate AND c.resolved_at IS NULL AND c.closed_at IS NULL
  AND (c.status = 'referred_legal' OR 'referred_legal' = ANY(c.action_codes))
ORDER BY c.reference
"""


def _params(keys: Keys) -> dict:
    return {"consumer": keys.consumer_id or None, "numbers": list(keys.phone_numbers)}


class ContactsDirectory:
    """The workflow's view of the consumer (workflow.Directory): do they exist, their keys, their holds."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def exists(self, consumer_id: str) -> bool:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT 1 FROM consumer WHERE id = %s", (consumer_id,))
            ).fetchone()
        return row is not None

    async def keys(self, consumer_id: str) -> workflow.Keys:
        async with self.pool.connection() as conn:
            numbers = [
                r[0]
                for r in await (
                    await conn.execute("SELECT e164 FROM phone_number WHERE consumer_id = %s", (consumer_id,))
                ).fetchall()
            ]
            params = {"consumer": consumer_id, "numbers": numbers}
            rows = await (
                await conn.execute(
                    f"SELECT recording_key, call_id FROM contact WHERE {_THEIR_CONTACTS}"
                    " AND (recording_key IS NOT NULL OR call_id IS NOT NULL)",
                    params,
                )
            ).fetchall()
        return workflow.Keys(
            consumer_id=consumer_id,
            phone_numbers=tuple(numbers),
            recording_keys=tuple(r[0] for r in rows if r[0]),
            call_ids=tuple(r[1] for r in rows if r[1]),
        )

    async def legal_holds(self, consumer_id: str) -> list[workflow.Hold]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(_HOLDS_SQL, (consumer_id,))).fetchall()
        return [
            workflow.Hold(
                case_reference=reference,
                reason=f"an open health-and-safety case ({issue}) under regulatory reporting (status {status})",
                release="a supervisor resolving or closing the case once the regulatory report is filed",
            )
            for reference, issue, status in rows
        ]


async def export(pool: AsyncConnectionPool, keys: Keys):
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        consumer = {"consumer": keys.consumer_id}

        async def rows(sql: str, params=consumer):
            return await (await cur.execute(sql, params)).fetchall()

        contacts = await rows(
            f"SELECT {_CONTACT_COLUMNS} FROM contact WHERE {_THEIR_CONTACTS} ORDER BY occurred_at",
            _params(keys),
        )
        ids = {"ids": [c["id"] for c in contacts]}
        data = {
            "profile": (await rows("SELECT * FROM consumer WHERE id = %(consumer)s") or [None])[0],
            "phone_numbers": await rows(
                "SELECT * FROM phone_number WHERE consumer_id = %(consumer)s ORDER BY position, valid_from"
            ),
            "emails": await rows("SELECT * FROM email WHERE consumer_id = %(consumer)s ORDER BY position"),
            "postal_addresses": await rows(
                "SELECT * FROM postal_address WHERE consumer_id = %(consumer)s ORDER BY position"
            ),
            "contacts_and_cases": contacts,
            "timelines": await rows(
                "SELECT * FROM contact_event WHERE contact_id = ANY(%(ids)s) ORDER BY id", ids
            ),
            "linked_calls": await rows("SELECT * FROM contact_call WHERE contact_id = ANY(%(ids)s)", ids),
            "follow_ups": await rows(
                "SELECT * FROM case_follow_up WHERE contact_id = ANY(%(ids)s) ORDER BY due_at", ids
            ),
            "unidentified_caller_records": await rows(
                "SELECT * FROM unidentified_caller WHERE number_key = ANY(%(numbers)s)", _params(keys)
            ),
        }
    return data, []


async def _terms(conn: psycopg.AsyncConnection, keys: Keys) -> Terms:
    cur = conn.cursor(row_factory=dict_row)
    names = [
        r["name"]
        for r in await (
            await cur.execute("SELECT name FROM consumer WHERE id = %(consumer)s", _params(keys))
        ).fetchall()
    ]
    emails = [
        r["address"]
        for r in await (
            await cur.execute("SELECT address FROM email WHERE consumer_id = %(consumer)s", _params(keys))
        ).fetchall()
    ]
    reporters = await (
        await cur.execute(
            f"SELECT reporter_name, reporter_email, reporter_phone FROM contact WHERE {_THEIR_CONTACTS}",
            _params(keys),
        )
    ).fetchall()
    return Terms.of(
        names=[*names, *(r["reporter_name"] for r in reporters)],
        emails=[*emails, *(r["reporter_email"] for r in reporters)],
        phones=[*keys.phone_numbers, *(r["reporter_phone"] for r in reporters)],
    )


async def anonymise_contacts(
    conn: psycopg.AsyncConnection, where: str, params: dict, terms: Terms
) -> tuple[list[str], int]:
    """Strip the person from the contacts `where` picks, keeping what counts; returns (their ids, events)."""
    cur = conn.cursor(row_factory=dict_row)
    contacts = await (
        await cur.execute(
            f"SELECT id, summary, verbatim, notes, escalation_reason FROM contact WHERE {where}", params
        )
    ).fetchall()
    for c in contacts:
        await conn.execute(
            "UPDATE contact SET consumer_id = NULL, unidentified_caller_id = NULL, reporter_name = '',"
            " reporter_email = '', reporter_phone = '', caller_number = '', recording_key = NULL,"
            " summary = %s, verbatim = %s, notes = %s, escalation_reason = %s WHERE id = %s",
            (
                redact(c["summary"], terms),
                redact(c["verbatim"], terms),
                redact(c["notes"], terms),
                redact(c["escalation_reason"], terms),
                c["id"],
            ),
        )
    ids = [c["id"] for c in contacts]
    events = await (
        await cur.execute("SELECT id, changes, note FROM contact_event WHERE contact_id = ANY(%s)", (ids,))
    ).fetchall()
    for e in events:
        await conn.execute(
            "UPDATE contact_event SET changes = %s, note = %s WHERE id = %s",
            (Jsonb(scrub_changes(e["changes"], terms)), redact(e["note"], terms), e["id"]),
        )
    # A follow-up's text may name the person too ("call Jane back on her mobile").
    follow_ups = await (
        await cur.execute("SELECT id, body FROM case_follow_up WHERE contact_id = ANY(%s)", (ids,))
    ).fetchall()
    for f in follow_ups:
        await conn.execute(
            "UPDATE case_follow_up SET body = %s WHERE id = %s", (redact(f["body"], terms), f["id"])
        )
    return [str(i) for i in ids], len(events)


async def announce_anonymised(conn: psycopg.AsyncConnection, contact_ids: list[str], reason: str) -> None:
    """`contacts_anonymised` through the outbox, in the transaction that anonymised the cases: insights keeps
    their redacted verbatims for its themes, and drops them on hearing it. The event names cases alone."""
    if contact_ids:
        await outbox.add(
            conn,
            source="contacts",
            type="contacts_anonymised",
            message=events_pb2.ContactsAnonymised(contact_ids=contact_ids, reason=reason),
        )


async def erase(conn: psycopg.AsyncConnection, keys: Keys) -> dict[str, int]:
    terms = await _terms(conn, keys)
    params = _params(keys)
    contacts, events = await anonymise_contacts(conn, _THEIR_CONTACTS, params, terms)
    callers = await conn.execute(
        "DELETE FROM unidentified_caller WHERE number_key = ANY(%(numbers)s)", params
    )
    dropped = await drop_outbox_rows(
        conn, [keys.consumer_id, *keys.phone_numbers, *terms.names, *terms.emails]
    )
    # After the unpublished events that name the person are dropped: this one names their cases alone.
    await announce_anonymised(conn, contacts, "erasure")
    counts = {}
    for table in ("phone_number", "email", "postal_address"):
        counts[table] = (
            await conn.execute(f"DELETE FROM {table} WHERE consumer_id = %(consumer)s", params)
        ).rowcount
    profile = await conn.execute("DELETE FROM consumer WHERE id = %(consumer)s", params)
    return {
        "profile": profile.rowcount,
        "phone_numbers": counts["phone_number"],
        "emails": counts["email"],
        "postal_addresses": counts["postal_address"],
        "cases_anonymised": len(contacts),
        "timeline_entries_scrubbed": events,
        "unidentified_caller_records": callers.rowcount,
        "outbox_events": dropped,
    }


__all__ = ["MARK", "ContactsDirectory", "announce_anonymised", "anonymise_contacts", "erase", "export"]
