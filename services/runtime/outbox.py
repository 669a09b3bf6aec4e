"""The transactional outbox: write events with the change, publish them afterwards with confirms.

A service calls `add_event()` inside the transaction that makes a change, so the event exists exactly
when the change does. The relay takes pending events in order, publishes each batch with confirms, and
deletes the batch in the same transaction that locked it. A relay stopped between batches, or a broker
that is down, leaves the events in the table for the next attempt; consumers are idempotent on the event
id for the one case that can repeat a batch (a crash after the broker confirmed, before the commit).
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
from google.protobuf.message import Message
from psycopg_pool import AsyncConnectionPool

from services.runtime.bus import Publisher
from services.runtime.events import Event
from services.runtime.metrics import OUTBOX_PENDING

log = logging.getLogger(__name__)

BATCH = 500


async def add_event(conn: psycopg.AsyncConnection, event: Event) -> Event:
    """Write `event` to the outbox as part of the caller's transaction, and wake the relay."""
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
        " VALUES (%s, %s, %s, %s, %s)) SELECT pg_notify(current_schema() || '_outbox', '')",
        (event.id, event.exchange, event.type, event.correlation_id, event.to_json()),
    )
    return event


def add_event_now(conn: psycopg.Connection, event: Event) -> Event:
    """add_event for a synchronous connection (demo seeding): the same row, in the caller's transaction."""
    conn.execute(
        "INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body) VALUES (%s, %s, %s, %s, %s)",
        (event.id, event.exchange, event.type, event.correlation_id, event.to_json()),
    )
    return event


async def add_events(conn: psycopg.AsyncConnection, events: list[Event]) -> None:
    """Write many events to the outbox in one statement, as part of the caller's transaction."""
    if not events:
        return
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
        " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::bytea[]))"
        " SELECT pg_notify(current_schema() || '_outbox', '')",
        (
            [e.id for e in events],
            [e.exchange for e in events],
            [e.type for e in events],
            [e.correlation_id for e in events],
            [e.to_json() for e in events],
        ),
    )


async def add(
    conn: psycopg.AsyncConnection,
    *,
    source: str,
    type: str,
    message: Message,
    correlation_id: str | None = None,
) -> Event:
    """Write a protobuf event message to the outbox as part of the caller's transaction."""
    return await add_event(conn, Event.of(source, type, message, correlation_id=correlation_id))


class Relay:
    """Moves events from one schema's outbox to the broker."""

    def __init__(
        self, pool: AsyncConnectionPool, publisher: Publisher, *, schema: str, poll_interval: float = 1.0
    ):
        self.pool = pool
        self.publisher = publisher
        self.schema = schema
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def publish_batch(self) -> int:
        """Publish one batch of pending events; return how many went out."""
        async with self.pool.connection() as conn, conn.transaction():
            # Taken and deleted in one statement; if publishing fails, the rollback puts them back.
            rows = await (
                await conn.execute(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT %s"
                    " FOR UPDATE SKIP LOCKED) RETURNING id, event_id, routing_key, correlation_id, body",
                    (BATCH,),
                )
            ).fetchall()
            if not rows:
                return 0
            rows.sort()
            # All of the batch is in flight at once; the confirms come back together.
            await asyncio.gather(
                *(
                    self.publisher.publish_raw(
                        bytes(body), routing_key=key, event_id=str(event_id), correlation_id=cid
                    )
                    for _, event_id, key, cid, body in rows
                )
            )
        return len(rows)

    async def pending(self) -> int:
        async with self.pool.connection() as conn:
            (count,) = await (await conn.execute("SELECT count(*) FROM outbox")).fetchone()
        OUTBOX_PENDING.labels(self.schema).set(count)
        return count

    async def _listen(self) -> None:
        conninfo = self.pool.conninfo
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True, **self.pool.kwargs
                ) as conn:
                    await conn.execute(f'LISTEN "{self.schema}_outbox"')
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.OperationalError, OSError) as exc:
                log.warning("outbox listener lost its connection (%s); polling meanwhile", exc)
                await asyncio.sleep(self.poll_interval)

    async def run(self) -> None:
        """Relay until stop() is called; a batch in flight is finished first."""
        listener = asyncio.create_task(self._listen())
        backoff = 0.1
        try:
            while not self._stopping.is_set():
                # Cleared before draining, not after: a notification that arrives while the last batch
                # is out keeps the wake set, instead of being lost and waiting for the poll.
                self._wake.clear()
                try:
                    while not self._stopping.is_set() and await self.publish_batch():
                        pass
                    backoff = 0.1
                except Exception as exc:
                    # The broker or database is away: the events stay in the table until it is back.
                    log.warning("outbox relay could not publish (%s); retrying in %.1fs", exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
        finally:
            listener.cancel()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
