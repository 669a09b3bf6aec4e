"""The cover thresholds' table and their audit trail (schema `fulfillment`). SQL only; which threshold
applies is decided in restock_thresholds.py."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.fulfillment.replies import InvalidRequest, NotFound
from services.fulfillment.restock_thresholds import Change, CoverThreshold

CHANGES_SHOWN = 50
LOCK = "SELECT cover_days FROM restock_cover_threshold WHERE (sku, country, region) = (%s, %s, %s) FOR UPDATE"


async def overrides(conn) -> tuple[CoverThreshold, ...]:
    rows = await (
        await conn.execute(
            "SELECT sku, country, region, cover_days FROM restock_cover_threshold ORDER BY country, region, sku"
        )
    ).fetchall()
    return tuple(CoverThreshold(*row) for row in rows)


async def record_change(conn, scope: tuple[str, str, str], actor: str, before, after) -> None:
    await conn.execute(
        "INSERT INTO restock_threshold_change (sku, country, region, changed_by, before, after)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (*scope, actor, None if before is None else Jsonb(before), None if after is None else Jsonb(after)),
    )


async def _check_scope(conn, sku: str, country: str, region: str) -> None:
    if sku and not await (await conn.execute("SELECT 1 FROM product WHERE sku = %s", (sku,))).fetchone():
        raise InvalidRequest(f"sku: no product {sku!r}")
    if region:
        found = await conn.execute(
            "SELECT 1 FROM location WHERE country = %s AND region = %s LIMIT 1", (country, region)
        )
        if not await found.fetchone():
            raise InvalidRequest(f"region: no location in {country}/{region}")


class ThresholdStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def set(self, threshold: CoverThreshold, actor: str) -> None:
        """Add or change an override, and audit it, in one transaction."""
        async with self.pool.connection() as conn:
            await _check_scope(conn, *threshold.scope)
            row = await (await conn.execute(LOCK, threshold.scope)).fetchone()
            await conn.execute(
                "INSERT INTO restock_cover_threshold (sku, country, region, cover_days, updated_by)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sku, country, region) DO UPDATE"
                " SET cover_days = EXCLUDED.cover_days, updated_by = EXCLUDED.updated_by, updated_at = now()",
                (*threshold.scope, threshold.cover_days, actor),
            )
            before = None if row is None else {"cover_days": row[0]}
            await record_change(conn, threshold.scope, actor, before, {"cover_days": threshold.cover_days})
            await conn.commit()

    async def remove(self, scope: tuple[str, str, str], actor: str) -> None:
        """Remove an override (the next one down applies again), and audit it."""
        async with self.pool.connection() as conn:
            row = await (await conn.execute(LOCK, scope)).fetchone()
            if row is None:
                raise NotFound("no cover threshold for that product and region")
            await conn.execute(
                "DELETE FROM restock_cover_threshold WHERE (sku, country, region) = (%s, %s, %s)", scope
            )
            await record_change(conn, scope, actor, {"cover_days": row[0]}, None)
            await conn.commit()

    async def overrides(self) -> tuple[CoverThreshold, ...]:
        async with self.pool.connection() as conn:
            return await overrides(conn)

    async def changes(self, limit: int = CHANGES_SHOWN) -> list[Change]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT sku, country, region, changed_by, changed_at, before, after"
                    " FROM restock_threshold_change ORDER BY changed_at DESC, id DESC LIMIT %s",
                    (limit,),
                )
            ).fetchall()
        return [Change(tuple(r[:3]), r[3], r[4], r[5], r[6]) for r in rows]


async def set_reorder_point(
    pool: AsyncConnectionPool, sku: str, location_id: str, point: int, actor: str
) -> None:
    """Change one location's reorder point for a product, audited in the same transaction."""
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT reorder_point FROM stock WHERE sku = %s AND location_id = %s FOR UPDATE",
                (sku, location_id),
            )
        ).fetchone()
        if row is None:
            raise NotFound(f"{sku} is not stocked at {location_id}")
        if row[0] != point:
            await conn.execute(
                "UPDATE stock SET reorder_point = %s WHERE sku = %s AND location_id = %s",
                (point, sku, location_id),
            )
            await conn.execute(
                "INSERT INTO reorder_point_change (sku, location_id, changed_by, before, after)"
                " VALUES (%s, %s, %s, %s, %s)",
                (sku, location_id, actor, row[0], point),
            )
        await conn.commit()
