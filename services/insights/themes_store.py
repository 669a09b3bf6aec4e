"""SQL for verbatims and theme runs (migration 0006); nothing else."""

from __future__ import annotations

import json
from datetime import date, datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.insights.domain.themes import Theme, Verbatim
from services.insights.themes import Run, Scope

_PUT = """
INSERT INTO contact_verbatim (contact_id, version, language, verbatim) VALUES (%s, %s, %s, %s)
ON CONFLICT (contact_id) DO UPDATE SET version = EXCLUDED.version, language = EXCLUDED.language,
  verbatim = EXCLUDED.verbatim
WHERE contact_verbatim.version <= EXCLUDED.version AND contact_verbatim.anonymised_at IS NULL
"""
_HELD = """
SELECT v.contact_id, c.sku, c.issue_code, c.received_on, v.language, v.verbatim AS text
FROM contact_verbatim v JOIN contact c USING (contact_id)
WHERE v.anonymised_at IS NULL AND v.verbatim <> ''
"""


def _theme_record(theme: Theme) -> dict:
    return {
        "id": theme.id, "label": theme.label, "terms": list(theme.terms), "size": theme.size,
        "rise": theme.rise, "weeks": [[w.isoformat(), n] for w, n in theme.weeks],
        "languages": list(theme.languages), "contact_ids": list(theme.contact_ids),
    }  # fmt: skip


def _theme_of(record: dict) -> Theme:
    return Theme(
        id=record["id"],
        label=record["label"],
        terms=tuple(record["terms"]),
        size=record["size"],
        rise=record["rise"],
        weeks=tuple((date.fromisoformat(w), n) for w, n in record["weeks"]),
        languages=tuple(record["languages"]),
        contact_ids=tuple(record["contact_ids"]),
    )


def _run_of(row: dict) -> Run:
    scope = row["scope"]
    return Run(
        id=str(row["id"]),
        scope=Scope(
            date.fromisoformat(scope["start"]),
            date.fromisoformat(scope["end"]),
            scope["sku"],
            scope["issue_prefix"],
        ),
        computed_at=row["computed_at"],
        representation=row["representation"],
        verbatims=row["verbatims"],
        themes=tuple(_theme_of(t) for t in row["themes"]),
    )


class SqlThemeStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, query: str, params=()) -> list[dict]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def put_verbatim(self, contact_id: str, version: int, language: str, text: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(_PUT, (contact_id, version, language, text))

    async def anonymise(self, contact_ids: list[str], at: datetime) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            # Kept as an empty row, so that a case event still in a queue cannot put the words back.
            cur = await conn.execute(
                "INSERT INTO contact_verbatim (contact_id, version, language, verbatim, anonymised_at)"
                " SELECT unnest(%s::text[]), 0, '', '', %s"
                " ON CONFLICT (contact_id) DO UPDATE SET verbatim = '', language = '',"
                " anonymised_at = EXCLUDED.anonymised_at",
                (contact_ids, at),
            )
            await conn.execute("DELETE FROM theme_run")
            return cur.rowcount

    async def verbatims(self, scope: Scope, limit: int) -> list[Verbatim]:
        rows = await self._rows(
            _HELD + " AND c.received_on BETWEEN %(start)s AND %(end)s"
            " AND (%(sku)s = '' OR c.sku = %(sku)s)"
            " AND (%(prefix)s = '' OR c.issue_code = %(prefix)s OR c.issue_code LIKE %(prefix)s || '.%%')"
            " ORDER BY c.received_on DESC, v.contact_id LIMIT %(limit)s",
            {"start": scope.start, "end": scope.end, "sku": scope.sku, "prefix": scope.issue_prefix,
             "limit": limit},
        )  # fmt: skip
        return [Verbatim(**r) for r in rows]

    async def verbatims_of(self, contact_ids: list[str], limit: int) -> tuple[list[Verbatim], int]:
        rows = await self._rows(
            _HELD + " AND v.contact_id = ANY(%s) ORDER BY c.received_on DESC, v.contact_id",
            (contact_ids,),
        )
        return [Verbatim(**r) for r in rows[:limit]], len(rows)

    async def save_run(self, run: Run) -> None:
        scope = {
            "start": run.scope.start.isoformat(), "end": run.scope.end.isoformat(), "sku": run.scope.sku,
            "issue_prefix": run.scope.issue_prefix,
        }  # fmt: skip
        async with self.pool.connection() as conn, conn.transaction():
            # One run kept per scope: the newest; an older one's ids still answer until it is replaced.
            await conn.execute("DELETE FROM theme_run WHERE scope_key = %s", (run.scope.key,))
            await conn.execute(
                "INSERT INTO theme_run (id, scope_key, scope, computed_at, representation, verbatims, themes)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    run.id, run.scope.key, json.dumps(scope), run.computed_at, run.representation,
                    run.verbatims, json.dumps([_theme_record(t) for t in run.themes]),
                ),
            )  # fmt: skip

    async def latest_run(self, scope_key: str) -> Run | None:
        rows = await self._rows(
            "SELECT * FROM theme_run WHERE scope_key = %s ORDER BY computed_at DESC LIMIT 1", (scope_key,)
        )
        return _run_of(rows[0]) if rows else None

    async def run(self, run_id: str) -> Run | None:
        rows = await self._rows("SELECT * FROM theme_run WHERE id::text = %s", (run_id,))
        return _run_of(rows[0]) if rows else None
