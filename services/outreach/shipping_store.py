"""Shipping notices' rows in PostgreSQL (`shipping_notice`): claimed once per (fulfillment, state), leased
to one sender at a time, and ended once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from services.outreach.shipping_notices import JOURNEY, ShipmentNews

# Long enough for one round of sends; a sender killed mid-round leaves its rows to the next after it.
LEASE = timedelta(minutes=2)
NEWS_COLUMNS = (
    "n.fulfillment_id, n.case_id, n.consumer_id, n.state, n.carrier, n.tracking_number, n.tracking_url,"
    " n.occurred_at"
)


@dataclass(frozen=True)
class Claimed:
    news: ShipmentNews
    overtaken: bool  # the notice of a later state of the same parcel has been sent


@dataclass(frozen=True)
class Ending:
    fulfillment_id: str
    state: str
    outcome: str  # sent, suppressed, superseded, expired; or wait, with `retry_at`
    reason: str = ""
    retry_at: datetime | None = None


class ShippingStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def take(self, news: ShipmentNews, now: datetime) -> bool:
        """The notice of this (fulfillment, state), due at `now`, made once; False when an earlier event
        made it."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO shipping_notice (fulfillment_id, state, journey, consumer_id, case_id, carrier,"
                " tracking_number, tracking_url, occurred_at, next_try_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    news.fulfillment_id,
                    news.state,
                    JOURNEY[news.state],
                    news.consumer_id,
                    news.case_id,
                    news.carrier,
                    news.tracking_number,
                    news.tracking_url,
                    news.occurred_at,
                    now,
                ),
            )
            return cursor.rowcount == 1

    async def claim(self, now: datetime, limit: int, *, fulfillment_id: str = "") -> list[Claimed]:
        """Lease up to `limit` pending notices due by `now` (of one parcel when named), oldest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "UPDATE shipping_notice n SET next_try_at = %(until)s, attempts = n.attempts + 1"
                    " FROM (SELECT fulfillment_id, state FROM shipping_notice"
                    "       WHERE outcome = 'pending' AND next_try_at <= %(now)s"
                    "       AND (%(parcel)s = '' OR fulfillment_id = %(parcel)s)"
                    "       ORDER BY next_try_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due"
                    " WHERE n.fulfillment_id = due.fulfillment_id AND n.state = due.state"
                    f" RETURNING {NEWS_COLUMNS}, EXISTS (SELECT 1 FROM shipping_notice later"
                    "  WHERE later.fulfillment_id = n.fulfillment_id AND later.journey > n.journey"
                    "  AND later.outcome = 'sent')",
                    {"now": now, "until": now + LEASE, "limit": limit, "parcel": fulfillment_id},
                )
            ).fetchall()
        return [Claimed(ShipmentNews(*row[:8]), row[8]) for row in rows]

    async def record(self, endings: list[Ending]) -> None:
        """What became of claimed notices, in one statement; a notice already ended does not change."""
        if not endings:
            return
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE shipping_notice n SET reason = e.reason,"
                " outcome = CASE WHEN e.outcome = 'wait' THEN 'pending' ELSE e.outcome END,"
                " next_try_at = coalesce(e.retry_at, n.next_try_at),"
                " decided_at = CASE WHEN e.outcome = 'wait' THEN NULL ELSE now() END"
                " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
                "   AS e(fulfillment_id, state, outcome, reason, retry_at)"
                " WHERE n.fulfillment_id = e.fulfillment_id AND n.state = e.state AND n.outcome = 'pending'",
                (
                    [e.fulfillment_id for e in endings],
                    [e.state for e in endings],
                    [e.outcome for e in endings],
                    [e.reason for e in endings],
                    [e.retry_at for e in endings],
                ),
            )

    async def outcomes(self, fulfillment_id: str) -> dict[str, tuple[str, str]]:
        """Each state's notice of one parcel: (outcome, reason), for the record and the tests."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT state, outcome, reason FROM shipping_notice WHERE fulfillment_id = %s",
                    (fulfillment_id,),
                )
            ).fetchall()
        return {state: (outcome, reason) for state, outcome, reason in rows}
