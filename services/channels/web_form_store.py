"""SQL for the public web form: the shared rate-limit buckets and the deflections. No rules here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from services.channels import rate_limit
from services.channels.rate_limit import Bucket, Budget
from services.channels.web_form import AGAIN, COUNTED, HANDED_OFF, REOPENED, UNKNOWN, Suggestions
from services.runtime.db import autocommit

# How often one replica forgets the buckets that have filled again; any replica may, and all may.
PRUNE_EVERY = timedelta(minutes=5)


class SqlBuckets:
    """Token buckets in the database, each spent under its row's lock, against the database's clock (one
    clock for every replica)."""

    def __init__(self, pool: AsyncConnectionPool, budget: Budget, *, scope: str):
        self.pool = pool
        self.budget = budget
        # Buckets of different budgets share the table under their own keys.
        self.scope = scope
        self._pruned_at: datetime | None = None

    async def take(self, client: str) -> float:
        """0 when `client` may send now; otherwise the seconds to wait."""
        key = f"{self.scope}:{client}"
        async with self.pool.connection() as conn, conn.transaction():
            # A full bucket first, if none: then every replica spends under the same row's lock.
            await conn.execute(
                "INSERT INTO web_form_bucket (client, tokens, updated_at) VALUES (%s, %s, clock_timestamp())"
                " ON CONFLICT (client) DO NOTHING",
                (key, float(self.budget.burst)),
            )
            tokens, at, now = await (
                await conn.execute(
                    "SELECT tokens, updated_at, clock_timestamp() FROM web_form_bucket"
                    " WHERE client = %s FOR UPDATE",
                    (key,),
                )
            ).fetchone()
            bucket, wait = rate_limit.spend(self.budget, Bucket(tokens, at), now)
            await conn.execute(
                "UPDATE web_form_bucket SET tokens = %s, updated_at = %s WHERE client = %s",
                (bucket.tokens, bucket.at, key),
            )
        await self._prune(now)
        return wait

    async def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        full = timedelta(seconds=rate_limit.refill_seconds(self.budget))
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "DELETE FROM web_form_bucket WHERE client LIKE %s AND updated_at < %s",
                (f"{self.scope}:%", now - full),
            )


@dataclass(frozen=True)
class Tally:
    """The web form's suggestions over a period, for supervisors."""

    offered: int
    deflected: int
    submitted: int
    reopened: int
    # Deflections per article, most first.
    by_article: list[tuple[str, int]]


class SqlOffers:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def offered(self, suggestions: Suggestions, *, language: str) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "INSERT INTO web_form_answer (answer_id, article_ids, top_score, language)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (answer_id) DO NOTHING",
                (
                    suggestions.answer_id,
                    [a.id for a in suggestions.articles],
                    suggestions.articles[0].score,
                    language,
                ),
            )

    async def deflected(self, answer_id: int, article_id: str) -> str:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "UPDATE web_form_answer SET outcome = 'deflected', article_id = %s, decided_at = now()"
                " WHERE answer_id = %s AND outcome IS NULL AND %s = ANY(article_ids)",
                (article_id, answer_id, article_id),
            )
            if cursor.rowcount == 1:
                return COUNTED
            row = await (
                await conn.execute(
                    "SELECT outcome FROM web_form_answer WHERE answer_id = %s AND %s = ANY(article_ids)",
                    (answer_id, article_id),
                )
            ).fetchone()
        return AGAIN if row and row[0] == "deflected" else UNKNOWN

    async def submitted(self, answer_id: int) -> str:
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT outcome FROM web_form_answer WHERE answer_id = %s FOR UPDATE", (answer_id,)
                )
            ).fetchone()
            if row is None or row[0] not in (None, "deflected"):
                return ""
            after = "submitted" if row[0] is None else "reopened"
            await conn.execute(
                "UPDATE web_form_answer SET outcome = %s, decided_at = now() WHERE answer_id = %s",
                (after, answer_id),
            )
        return HANDED_OFF if after == "submitted" else REOPENED

    async def tally(self, since: datetime) -> Tally:
        async with autocommit(self.pool) as conn:
            offered, deflected, submitted, reopened = await (
                await conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE outcome = 'deflected'),"
                    " count(*) FILTER (WHERE outcome = 'submitted'),"
                    " count(*) FILTER (WHERE outcome = 'reopened')"
                    " FROM web_form_answer WHERE offered_at >= %s",
                    (since,),
                )
            ).fetchone()
            rows = await (
                await conn.execute(
                    "SELECT article_id, count(*) FROM web_form_answer"
                    " WHERE offered_at >= %s AND outcome = 'deflected'"
                    " GROUP BY article_id ORDER BY count(*) DESC, article_id LIMIT 20",
                    (since,),
                )
            ).fetchall()
        return Tally(offered, deflected, submitted, reopened, [(a, n) for a, n in rows])
