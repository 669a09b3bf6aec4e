"""Recall queues' SQL (schema `contacts`): the recalls heard from insights' events, and the cases routed to
each. The rule of who goes where is the domain's (domain/recalls.py); this file only reads and writes."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework.domain.recalls import RecallCover, routed

_COVER_COLUMNS = "recall_id::text, sku, lot_codes, title, open"


def _cover(row: dict) -> RecallCover:
    return RecallCover(row["recall_id"], row["sku"], tuple(row["lot_codes"]), row["title"], row["open"])


async def _open_covers(conn: psycopg.AsyncConnection, skus: list[str]) -> list[RecallCover]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COVER_COLUMNS} FROM recall_cover WHERE open AND sku = ANY(%s)", (skus,))
        return [_cover(r) for r in await cur.fetchall()]


async def _put_routes(conn: psycopg.AsyncConnection, routes: list[tuple[str, str]]) -> int:
    if not routes:
        return 0
    cur = await conn.execute(
        "INSERT INTO recall_case (recall_id, contact_id)"
        " SELECT * FROM unnest(%s::uuid[], %s::uuid[]) ON CONFLICT DO NOTHING",
        ([r for r, _ in routes], [c for _, c in routes]),
    )
    return cur.rowcount


async def route_cases(conn: psycopg.AsyncConnection, cases, *, again: bool = False) -> int:
    """Route cases just written (in the caller's transaction) to the open recalls covering them. `again`,
    for a changed case: it leaves the open recalls' queues it no longer belongs in (its product or lot was
    corrected); a closed recall's queue keeps what it held."""
    if again:
        await conn.execute(
            "DELETE FROM recall_case rc USING recall_cover r WHERE rc.recall_id = r.recall_id AND r.open"
            " AND rc.contact_id = ANY(%s::uuid[])",
            ([c.id for c in cases],),
        )
    skus = sorted({c.product.sku.strip() for c in cases if c.product.sku.strip()})
    if not skus:
        return 0
    covers = await _open_covers(conn, skus)
    routes = [(r, c.id) for c in cases for r in routed(covers, c.product.sku, c.product.lot_code)]
    return await _put_routes(conn, routes)


class RecallQueues:
    """The recalls heard of, and their queues' cases."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def hear(self, cover: RecallCover) -> int:
        """Keep the recall as announced; an opened one takes the cases about it already on file. Returns how
        many cases were routed. A close heard before its open (the bus does not promise order) is kept,
        and the late open then leaves it closed."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO recall_cover (recall_id, sku, lot_codes, title, open) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (recall_id) DO UPDATE SET open = recall_cover.open AND excluded.open,"
                " heard_at = now()",
                (cover.recall_id, cover.sku, list(cover.lot_codes), cover.title, cover.open),
            )
            if not cover.open:
                return 0
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(
                    "SELECT id::text, lot_code FROM contact WHERE product_sku = %s AND issue_code IS NOT NULL",
                    (cover.sku,),
                )
                rows = await cur.fetchall()
            held = await _open_covers(conn, [cover.sku])
            mine = [c for c in held if c.recall_id == cover.recall_id]
            routes = [
                (cover.recall_id, r["id"]) for r in rows if routed(mine, cover.sku, r["lot_code"] or "")
            ]
            return await _put_routes(conn, routes)

    async def cover(self, recall_id: str) -> RecallCover | None:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COVER_COLUMNS} FROM recall_cover WHERE recall_id::text = %s", (recall_id,)
            )
            row = await cur.fetchone()
            return _cover(row) if row else None
