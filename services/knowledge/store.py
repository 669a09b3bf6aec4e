"""SQL for the knowledge schema; nothing else."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.knowledge.articles import Article
from services.knowledge.service import AnswerLog, OutcomeCount
from services.knowledge.suggest import Example

_LATEST = """
SELECT DISTINCT ON (v.article_id, v.language)
       a.id, a.product_sku, a.kind, v.language, v.version, v.title, v.body, v.state, a.owner, v.author,
       coalesce(v.reviewer, '') AS reviewer
FROM article a JOIN article_version v ON v.article_id = a.id
{where}
ORDER BY v.article_id, v.language, v.version DESC
"""


def _article(row: dict) -> Article:
    return Article(**row)


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, query: str, params=()) -> list[dict]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def latest(self, article_id: str, language: str) -> Article | None:
        rows = await self._rows(
            _LATEST.format(where="WHERE a.id = %s AND v.language = %s"), (article_id, language)
        )
        return _article(rows[0]) if rows else None

    async def all_latest(self) -> list[Article]:
        return [_article(r) for r in await self._rows(_LATEST.format(where=""))]

    async def published(self) -> list[Article]:
        # The newest published version of each article and language, even when a newer draft exists.
        return [_article(r) for r in await self._rows(_LATEST.format(where="WHERE v.state = 'published'"))]

    async def save(self, article: Article, *, new: bool) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO article (id, product_sku, kind, owner) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET product_sku = EXCLUDED.product_sku, kind = EXCLUDED.kind",
                (article.id, article.product_sku, article.kind, article.owner),
            )
            await conn.execute(
                "INSERT INTO article_version (article_id, language, version, title, body, state, author, reviewer)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, nullif(%s, ''))"
                " ON CONFLICT (article_id, language, version) DO UPDATE"
                " SET state = EXCLUDED.state, reviewer = EXCLUDED.reviewer, changed_at = now()",
                (
                    article.id,
                    article.language,
                    article.version,
                    article.title,
                    article.body,
                    article.state,
                    article.author,
                    article.reviewer,
                ),
            )

    async def vectors(self, model: str) -> dict[tuple[str, str, int], np.ndarray]:
        rows = await self._rows(
            "SELECT article_id, language, version, vector FROM article_vector WHERE model = %s", (model,)
        )
        return {
            (r["article_id"], r["language"], r["version"]): np.frombuffer(bytes(r["vector"]), dtype="<f4")
            for r in rows
        }

    async def save_vectors(self, model: str, vectors: dict[tuple[str, str, int], np.ndarray]) -> None:
        if not vectors:
            return
        async with self.pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO article_vector (article_id, language, version, model, vector)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (article_id, language, version, model, np.asarray(v, dtype="<f4").tobytes())
                    for (article_id, language, version), v in vectors.items()
                ],
            )

    async def threshold(self) -> float:
        rows = await self._rows("SELECT value FROM setting WHERE name = 'answer_threshold'")
        return float(rows[0]["value"]) if rows else 1.0

    async def set_threshold(self, value: float, actor: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE setting SET value = %s, changed_by = %s, changed_at = now() WHERE name = 'answer_threshold'",
                (value, actor),
            )

    async def threshold_change(self) -> tuple[str, str]:
        rows = await self._rows("SELECT changed_by, changed_at FROM setting WHERE name = 'answer_threshold'")
        return (rows[0]["changed_by"], rows[0]["changed_at"].isoformat()) if rows else ("", "")

    async def outcome_counts(self, days: int) -> list[OutcomeCount]:
        rows = await self._rows(
            "SELECT channel, outcome, handoff_reason, count(*) AS count FROM answer_log"
            " WHERE asked_at > now() - make_interval(days => %s)"
            " GROUP BY channel, outcome, handoff_reason ORDER BY channel, outcome, handoff_reason",
            (days,),
        )
        return [OutcomeCount(r["channel"], r["outcome"], r["handoff_reason"], r["count"]) for r in rows]

    async def log_answer(self, entry: AnswerLog) -> int:
        fields = asdict(entry)
        columns = ", ".join(fields)
        rows = await self._rows(
            f"INSERT INTO answer_log ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",
            tuple(fields.values()),
        )
        return int(rows[0]["id"])

    async def set_outcome(self, log_id: int, outcome: str) -> bool:
        rows = await self._rows(
            "UPDATE answer_log SET outcome = %s WHERE id = %s RETURNING id", (outcome, log_id)
        )
        return bool(rows)

    async def current_model(self) -> tuple[int, bytes] | None:
        rows = await self._rows(
            "SELECT version, model FROM code_model WHERE promoted ORDER BY version DESC LIMIT 1"
        )
        return (rows[0]["version"], bytes(rows[0]["model"])) if rows else None

    async def next_model_version(self) -> int:
        rows = await self._rows("SELECT coalesce(max(version), 0) + 1 AS v FROM code_model")
        return int(rows[0]["v"])

    async def save_model(
        self, version: int, examples: list[Example], top1: float, top3: float, promoted: bool, model: bytes
    ) -> None:
        training = json.dumps([asdict(e) for e in examples], ensure_ascii=False)
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO code_model (version, examples, top1, top3, promoted, training, model)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (version, len(examples), top1, top3, promoted, training, model),
            )
