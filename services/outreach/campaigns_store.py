"""Campaigns' rows in PostgreSQL: recipients made in batches, claimed transactionally, finished once.

SQL only; the rules are in campaigns.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from services.outreach.campaigns import Campaign, Progress, next_state

BATCH = 5000


class CampaignNotFound(LookupError):
    pass


LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Claimed:
    consumer_id: str
    email: str
    time_zone: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    consumer_id: str
    status: str  # sent, deferred, suppressed, failed
    due_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class Listed:
    """A campaign as the console lists and shows it."""

    id: str
    kind: str
    name: str
    segment_id: str
    segment_name: str
    subject: str
    body: str
    state: str
    rate_per_second: int
    tested_to: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


_LISTED = (
    "SELECT c.id, c.kind, c.name, coalesce(c.segment_id::text, ''), coalesce(s.name, ''), c.subject, c.body,"
    " c.state, c.rate_per_second, c.tested_to, c.created_by, c.created_at, c.started_at, c.finished_at"
    " FROM campaign c LEFT JOIN segment s ON s.id = c.segment_id"
)


class CampaignStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def create(
        self,
        *,
        kind: str,
        name: str,
        subject: str,
        body: str,
        created_by: str,
        key: str | None = None,
        segment_id: str | None = None,
        rate_per_second: int = 50,
    ) -> str:
        """A new draft campaign; with `key`, the campaign already made under that key."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "INSERT INTO campaign (id, key, kind, name, segment_id, subject, body, rate_per_second,"
                    " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id",
                    (uuid.uuid4(), key, kind, name, segment_id, subject, body, rate_per_second, created_by),
                )
            ).fetchone()
        return str(row[0])

    async def move(self, campaign_id: str, move: str, *, tested_to: str = "") -> str:
        """Apply a state move under a row lock; raises NotAllowedNow when it does not apply."""
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute("SELECT state FROM campaign WHERE id = %s FOR UPDATE", (campaign_id,))
            ).fetchone()
            if row is None:
                raise CampaignNotFound(campaign_id)
            new = next_state(row[0], move)
            await conn.execute(
                "UPDATE campaign SET state = %s, tested_to = coalesce(nullif(%s, ''), tested_to),"
                " started_at = CASE WHEN %s = 'start' THEN now() ELSE started_at END,"
                " finished_at = CASE WHEN %s = 'finish' THEN now() ELSE finished_at END WHERE id = %s",
                (new, tested_to, move, move, campaign_id),
            )
        return new

    async def add_recipients(self, campaign_id: str, rows: Iterable[tuple[str, str, str]]) -> int:
        """(consumer_id, email, time_zone) rows, in batches; a consumer already there is left as it was."""
        added, batch = 0, []
        async with self.pool.connection() as conn:
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    added += await _insert(conn, campaign_id, batch)
                    batch = []
            if batch:
                added += await _insert(conn, campaign_id, batch)
        return added

    async def claim(self, campaign_id: str, now: datetime, limit: int) -> list[Claimed]:
        """Take up to `limit` due recipients of a running campaign, leased to this sender for LEASE."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "UPDATE campaign_recipient r SET status = 'sending', claimed_until = %(until)s,"
                    " attempts = r.attempts + 1"
                    " FROM (SELECT consumer_id FROM campaign_recipient cr JOIN campaign c ON c.id = cr.campaign_id"
                    "       WHERE cr.campaign_id = %(id)s AND c.state = 'running' AND ("
                    "         (cr.status IN ('pending', 'deferred') AND cr.due_at <= %(now)s)"
                    "         OR (cr.status = 'sending' AND cr.claimed_until < %(now)s))"
                    "       ORDER BY cr.due_at, cr.consumer_id LIMIT %(limit)s FOR UPDATE OF cr SKIP LOCKED) due"
                    " WHERE r.campaign_id = %(id)s AND r.consumer_id = due.consumer_id"
                    " RETURNING r.consumer_id, r.email, r.time_zone, r.attempts",
                    {"id": campaign_id, "now": now, "until": now + LEASE, "limit": limit},
                )
            ).fetchall()
        return [Claimed(str(c), e, tz, a) for c, e, tz, a in rows]

    async def record(self, campaign_id: str, outcomes: list[Outcome]) -> None:
        """What became of claimed recipients, in one statement; only rows still 'sending' change."""
        if not outcomes:
            return
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE campaign_recipient r SET status = o.status, reason = o.reason,"
                " due_at = coalesce(o.due_at, r.due_at), claimed_until = NULL,"
                " done_at = CASE WHEN o.status = 'deferred' THEN NULL ELSE now() END"
                " FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::text[])"
                "   AS o(consumer_id, status, due_at, reason)"
                " WHERE r.campaign_id = %s AND r.consumer_id = o.consumer_id AND r.status = 'sending'",
                (
                    [o.consumer_id for o in outcomes],
                    [o.status for o in outcomes],
                    [o.due_at for o in outcomes],
                    [o.reason for o in outcomes],
                    campaign_id,
                ),
            )

    async def progress(self, campaign_id: str) -> Progress:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT status, count(*) FROM campaign_recipient WHERE campaign_id = %s GROUP BY status",
                    (campaign_id,),
                )
            ).fetchall()
        return Progress.of(dict(rows))

    async def running(self) -> list[tuple[Campaign, int]]:
        """Every running campaign with its rate limit (messages a second), oldest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id, kind, subject, body, rate_per_second FROM campaign WHERE state = 'running'"
                    " ORDER BY started_at, id"
                )
            ).fetchall()
        return [(Campaign(str(i), k, s, b), rate) for i, k, s, b, rate in rows]

    async def campaign(self, campaign_id: str) -> Campaign:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT id, kind, subject, body FROM campaign WHERE id = %s", (campaign_id,)
                )
            ).fetchone()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return Campaign(str(row[0]), row[1], row[2], row[3])

    async def listed(self, campaign_id: str | None = None) -> list[Listed]:
        """Every campaign, newest first, or the one asked for (none: CampaignNotFound)."""
        where, params = (" WHERE c.id = %s", (campaign_id,)) if campaign_id else ("", ())
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(f"{_LISTED}{where} ORDER BY c.created_at DESC", params)
            ).fetchall()
        if campaign_id and not rows:
            raise CampaignNotFound(campaign_id)
        return [Listed(str(r[0]), *r[1:]) for r in rows]

    async def reasons(self, campaign_id: str) -> list[tuple[str, str, int]]:
        """(status, reason, count) of the recipients suppressed, failed or waiting, most first."""
        async with self.pool.connection() as conn:
            return await (
                await conn.execute(
                    "SELECT status, reason, count(*) FROM campaign_recipient WHERE campaign_id = %s"
                    " AND status IN ('suppressed', 'failed', 'deferred') GROUP BY status, reason"
                    " ORDER BY count(*) DESC, status, reason",
                    (campaign_id,),
                )
            ).fetchall()

    async def segment_of(self, campaign_id: str) -> str | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT segment_id FROM campaign WHERE id = %s", (campaign_id,))
            ).fetchone()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return str(row[0]) if row[0] else None

    async def state(self, campaign_id: str) -> str:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT state FROM campaign WHERE id = %s", (campaign_id,))
            ).fetchone()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return row[0]


async def _insert(conn, campaign_id: str, batch: list[tuple[str, str, str]]) -> int:
    cur = await conn.execute(
        "INSERT INTO campaign_recipient (campaign_id, consumer_id, email, time_zone)"
        " SELECT %s, * FROM unnest(%s::uuid[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
        (campaign_id, [b[0] for b in batch], [b[1] for b in batch], [b[2] for b in batch]),
    )
    return cur.rowcount
