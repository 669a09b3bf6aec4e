"""The consumer read model and consent, in SQL: the rows contacts' events make, consent as it stands and the
`consent_changed` event written with each change, and the adapters senders ask (reach.Reachable,
recalls_consume.Addresses, campaign_sender.Standing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.outreach import consent
from services.outreach.campaigns import DEFAULT_RULES, Recipient, Rules
from services.outreach.consent import Change, Entry
from services.outreach.consumers import ConsumerRow
from services.outreach.reach import Reach
from services.runtime import outbox
from services.runtime.events import Event

SOURCE = "outreach"
CONSENT_SCHEMA = "crs.outreach.v1.ConsentChanged"
_CONSENT_COLUMNS = "purpose, channel, granted, source, changed_by, changed_at"


class ConsumerStore:
    def __init__(self, pool: AsyncConnectionPool, *, rules: Rules = DEFAULT_RULES):
        self.pool, self.rules = pool, rules

    async def take(self, row: ConsumerRow) -> None:
        """A consumer as contacts' event shows it; an older event than the row holds changes nothing."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO consumer (consumer_id, email, language, time_zone, region, attributes,"
                " postal_address, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (consumer_id) DO UPDATE SET email = excluded.email,"
                " language = excluded.language, time_zone = excluded.time_zone, region = excluded.region,"
                " attributes = excluded.attributes, postal_address = excluded.postal_address,"
                " updated_at = excluded.updated_at WHERE consumer.updated_at <= excluded.updated_at",
                (
                    row.consumer_id,
                    row.email,
                    row.language,
                    row.time_zone,
                    row.region,
                    Jsonb(dict(row.attributes)),
                    Jsonb(row.postal_address) if row.postal_address is not None else None,
                    row.updated_at,
                ),
            )

    async def forget(self, consumer_id: str) -> dict[str, int]:
        """An erased consumer: their row and consent go; the consent events already published stay theirs
        to erase downstream."""
        async with self.pool.connection() as conn, conn.transaction():
            consents = await conn.execute("DELETE FROM consent WHERE consumer_id = %s", (consumer_id,))
            rows = await conn.execute("DELETE FROM consumer WHERE consumer_id = %s", (consumer_id,))
        return {"consumers": rows.rowcount, "consents": consents.rowcount}

    async def of(self, consumer_ids: list[str]) -> dict[str, Reach]:
        """reach.Reachable: each known consumer's email, language and time zone."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT consumer_id::text, email, language, time_zone FROM consumer"
                    " WHERE consumer_id = ANY(%s::uuid[])",
                    (consumer_ids,),
                )
            ).fetchall()
        return {cid: Reach(email, language, zone) for cid, email, language, zone in rows}

    async def consents(self, consumer_id: str) -> list[Entry]:
        """Every purpose and channel for one consumer, as recorded or by default."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"SELECT {_CONSENT_COLUMNS} FROM consent WHERE consumer_id = %s", (consumer_id,)
                )
            ).fetchall()
        return consent.standing(Entry(*row) for row in rows)

    async def change(self, change: Change) -> Event:
        """Record `change` and write its `consent_changed` event in the same transaction."""
        event = Event(
            source=SOURCE,
            type=consent.EVENT_TYPE,
            data=change.to_event(),
            time=change.changed_at,
            schema=CONSENT_SCHEMA,
        )
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO consent (consumer_id, {_CONSENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (consumer_id, purpose, channel) DO UPDATE SET granted = excluded.granted,"
                " source = excluded.source, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                (
                    change.consumer_id,
                    change.purpose,
                    change.channel,
                    change.granted,
                    change.source,
                    change.changed_by,
                    change.changed_at,
                ),
            )
            await outbox.add_event(conn, event)
        return event

    async def standing(
        self, consumer_ids: list[str], now: datetime, channel: str = "email"
    ) -> dict[str, tuple[frozenset[str], int]]:
        """campaign_sender.Standing: the purposes each consumer consented to on `channel`, and the marketing
        messages (campaigns and reorder reminders) sent to them within the frequency cap's window."""
        since = now - self.rules.cap_window
        async with self.pool.connection() as conn:
            recorded = await (
                await conn.execute(
                    f"SELECT consumer_id::text, {_CONSENT_COLUMNS} FROM consent"
                    " WHERE consumer_id = ANY(%s::uuid[]) AND channel = %s",
                    (consumer_ids, channel),
                )
            ).fetchall()
            sent = await (
                await conn.execute(
                    "SELECT consumer_id, count(*)::int FROM ("
                    " SELECT r.consumer_id::text FROM campaign_recipient r JOIN campaign c ON c.id = r.campaign_id"
                    "  WHERE c.kind = 'marketing' AND r.status = 'sent' AND r.done_at >= %(since)s"
                    "  AND r.consumer_id = ANY(%(ids)s::uuid[])"
                    " UNION ALL SELECT consumer_id FROM reorder_reminder"
                    "  WHERE sent_at >= %(since)s AND consumer_id = ANY(%(ids)s::text[])"
                    ") s GROUP BY consumer_id",
                    {"since": since, "ids": consumer_ids},
                )
            ).fetchall()
        entries: dict[str, list[Entry]] = {cid: [] for cid in consumer_ids}
        for cid, *row in recorded:
            entries[cid].append(Entry(*row))
        counts = dict(sent)
        return {cid: (consent.consented(e, channel), counts.get(cid, 0)) for cid, e in entries.items()}


class Addresses:
    """recalls_consume.Addresses over the read model: (email, time zone) of each consumer with an email."""

    def __init__(self, reach):
        self.reach = reach

    async def of(self, consumer_ids: list[str]) -> dict[str, tuple[str, str]]:
        found = await self.reach.of(consumer_ids)
        return {cid: (r.email, r.time_zone) for cid, r in found.items() if r.email}


class Standing:
    """campaign_sender.Standing over the read model: consented purposes on email, and the cap's count."""

    def __init__(self, store: ConsumerStore):
        self.store = store

    async def of(self, consumer_ids: list[str], now: datetime) -> dict[str, tuple[frozenset[str], int]]:
        return await self.store.standing(consumer_ids, now)


class Recipients:
    """The reorder desk's `recipient(consumer_id, now)`: the consumer as a campaign's recipient (address,
    time zone, consented purposes on email, the cap's count), so a reminder is decided like a campaign."""

    def __init__(self, store: ConsumerStore):
        self.store = store

    async def __call__(self, consumer_id: str, now: datetime) -> Recipient:
        reach = (await self.store.of([consumer_id])).get(consumer_id)
        purposes, sent_in_window = (await self.store.standing([consumer_id], now))[consumer_id]
        if reach is None:
            return Recipient(consumer_id, "", consented=purposes, sent_in_window=sent_in_window)
        return Recipient(consumer_id, reach.email, reach.time_zone, purposes, sent_in_window)


class ServiceWithdrawals:
    """shipping_desk.ServiceConsent over the read model: who refused service messages by email."""

    def __init__(self, store: ConsumerStore):
        self.store = store

    async def withdrawn(self, consumer_ids: list[str]) -> set[str]:
        standing = await self.store.standing(consumer_ids, datetime.now(UTC))
        return {cid for cid, (purposes, _) in standing.items() if "service" not in purposes}


class Consents:
    """The survey and reorder desks' `consents(consumer_id, purpose)`: consented on email at the clock's now."""

    def __init__(self, store: ConsumerStore, *, clock: Callable[[], datetime]):
        self.store, self.clock = store, clock

    async def __call__(self, consumer_id: str, purpose: str) -> bool:
        standing = await self.store.standing([consumer_id], self.clock())
        return consent.purpose_named(purpose) in standing[consumer_id][0]
