"""Approval limits' table and its audit trail (schema `fulfillment`). SQL only; the rules are in
limits.py, and requesting reads the limits through reply_store."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.fulfillment.limits import COUPON_FIELDS, Limit, LimitChange
from services.fulfillment.replies import CouponPolicy, NotFound

COLUMNS = "scope, name, currency, max_value_minor, max_period_minor, period_days"
LOCK = (
    "SELECT max_value_minor, max_period_minor, period_days FROM approval_limit"
    " WHERE (scope, name, currency) = (%s, %s, %s) FOR UPDATE"
)
CHANGES_SHOWN = 50


def _values(row) -> dict | None:
    return (
        None
        if row is None
        else {"max_value_minor": row[0], "max_period_minor": row[1], "period_days": row[2]}
    )


async def _record(conn, key, actor: str, before: dict | None, after: dict | None) -> None:
    await conn.execute(
        "INSERT INTO approval_limit_change (scope, name, currency, changed_by, before, after)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (*key, actor, None if before is None else Jsonb(before), None if after is None else Jsonb(after)),
    )


class LimitsStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def all(self) -> list[Limit]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"SELECT {COLUMNS} FROM approval_limit ORDER BY scope DESC, name, currency"
                )
            ).fetchall()
        return [Limit(*row) for row in rows]

    async def set(self, limit: Limit, actor: str) -> None:
        async with self.pool.connection() as conn:
            before = _values(await (await conn.execute(LOCK, limit.key)).fetchone())
            await conn.execute(
                f"INSERT INTO approval_limit ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (scope, name, currency) DO UPDATE SET max_value_minor = EXCLUDED.max_value_minor,"
                " max_period_minor = EXCLUDED.max_period_minor, period_days = EXCLUDED.period_days",
                (*limit.key, limit.max_value_minor, limit.max_period_minor, limit.period_days),
            )
            if before != limit.values():
                await _record(conn, limit.key, actor, before, limit.values())
            await conn.commit()

    async def remove(self, key: tuple[str, str, str], actor: str) -> None:
        """An agent's own limit removed: their role's applies again. A role's removed: its members' requests
        with a value wait for a supervisor."""
        async with self.pool.connection() as conn:
            before = _values(await (await conn.execute(LOCK, key)).fetchone())
            if before is None:
                raise NotFound("no such approval limit")
            await conn.execute("DELETE FROM approval_limit WHERE (scope, name, currency) = (%s, %s, %s)", key)
            await _record(conn, key, actor, before, None)
            await conn.commit()

    async def changes(self, limit: int = CHANGES_SHOWN) -> list[LimitChange]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT scope, name, currency, changed_by, changed_at, before, after"
                    " FROM approval_limit_change ORDER BY changed_at DESC, id DESC LIMIT %s",
                    (limit,),
                )
            ).fetchall()
        return [LimitChange(tuple(r[:3]), r[3], r[4], r[5], r[6]) for r in rows]

    async def coupon_policy(self) -> tuple[CouponPolicy, list[tuple]]:
        """The coupon fraud limits, with their latest changes (who, when, before, after)."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(f"SELECT {', '.join(COUPON_FIELDS)} FROM coupon_policy")
            ).fetchone()
            changes = await (
                await conn.execute(
                    "SELECT changed_by, changed_at, before, after FROM coupon_policy_change"
                    " ORDER BY changed_at DESC, id DESC LIMIT %s",
                    (CHANGES_SHOWN,),
                )
            ).fetchall()
        return CouponPolicy(*row), changes

    async def set_coupon_policy(self, policy: CouponPolicy, actor: str) -> None:
        after = {name: getattr(policy, name) for name in COUPON_FIELDS}
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(f"SELECT {', '.join(COUPON_FIELDS)} FROM coupon_policy FOR UPDATE")
            ).fetchone()
            before = dict(zip(COUPON_FIELDS, row, strict=True))
            if before != after:
                await conn.execute(
                    "UPDATE coupon_policy SET max_per_consumer = %s, max_per_household = %s, period_days = %s,"
                    " valid_days = %s",
                    tuple(after.values()),
                )
                await conn.execute(
                    "INSERT INTO coupon_policy_change (changed_by, before, after) VALUES (%s, %s, %s)",
                    (actor, Jsonb(before), Jsonb(after)),
                )
            await conn.commit()
