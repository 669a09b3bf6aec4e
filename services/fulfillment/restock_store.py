"""Restock prompts' tables for the asyncio API (schema `fulfillment`): sell-through, misses, the policy
and the prompts, with their events through the outbox. SQL only; the rules are in restock.py."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from services.fulfillment import convert
from services.fulfillment import restock_thresholds_store as thresholds_store
from services.fulfillment.restock import Decisions, Figures, Policy, Prompt
from services.runtime import outbox
from services.runtime.db import autocommit
from services.runtime.events import Event

SOURCE = "fulfillment"
RAISED = "restock_prompt_raised"
CLEARED = "restock_prompt_cleared"

POLICY_NAMES = ("cover_days", "window_days", "baseline_windows", "miss_factor", "min_misses")
POLICY_COLUMNS = ", ".join(POLICY_NAMES)
PROMPT_COLUMNS = (
    "id::text, sku, country, region, reasons, units_sold, available, misses, usual_misses, window_days,"
    " cover_threshold_days, raised_at, evaluated_at, cleared_at"
)
NOT_SOLD = ("cancelled", "returned")

# Per product and region, over the window ending at `now`: units sold (order lines of orders placed at
# the region's locations, and reservations made there less releases), misses in the window and in the
# baseline windows before it, and the region's available stock. Only pairs that sold, missed or have an
# open prompt are measured: the rest cannot raise or clear anything.
FIGURES = """
WITH bounds AS (
  SELECT %(now)s::timestamptz AS upto,
         %(now)s::timestamptz - make_interval(days => %(days)s) AS since,
         %(now)s::timestamptz - make_interval(days => %(days)s * (1 + %(baseline)s)) AS baseline_since
), by_orders AS (
  SELECT ol.sku, loc.country, loc.region, sum(ol.quantity) AS units
    FROM bounds, orders o
    JOIN order_line ol ON ol.order_id = o.id
    JOIN location loc ON loc.id = o.location_id
   WHERE o.location_id IS NOT NULL AND o.placed_at > bounds.since AND o.placed_at <= bounds.upto
     AND o.status <> ALL(%(not_sold)s)
   GROUP BY 1, 2, 3
), by_movements AS (
  SELECT m.sku, loc.country, loc.region,
         sum(CASE WHEN m.kind = 'reserved' THEN abs(m.quantity) ELSE -abs(m.quantity) END) AS units
    FROM bounds, stock_movement m
    JOIN location loc ON loc.id = m.location_id
   WHERE m.kind IN ('reserved', 'released') AND m.occurred_at > bounds.since AND m.occurred_at <= bounds.upto
   GROUP BY 1, 2, 3
), missed AS (
  SELECT w.sku, w.country, w.region,
         count(*) FILTER (WHERE w.occurred_at > bounds.since) AS misses,
         count(*) FILTER (WHERE w.occurred_at <= bounds.since) AS baseline
    FROM bounds, where_to_buy_miss w
   WHERE w.occurred_at > bounds.baseline_since AND w.occurred_at <= bounds.upto
   GROUP BY 1, 2, 3
), pairs AS (
  SELECT sku, country, region FROM by_orders
  UNION SELECT sku, country, region FROM by_movements
  UNION SELECT sku, country, region FROM missed
  UNION SELECT sku, country, region FROM restock_prompt WHERE cleared_at IS NULL
), stocked AS (
  SELECT s.sku, loc.country, loc.region, sum(s.on_hand - s.reserved) AS available
    FROM stock s JOIN location loc ON loc.id = s.location_id
   WHERE (s.sku, loc.country, loc.region) IN (SELECT sku, country, region FROM pairs)
   GROUP BY 1, 2, 3
)
SELECT p.sku, p.country, p.region,
       greatest(coalesce(bo.units, 0) + coalesce(bm.units, 0), 0)::int,
       coalesce(st.available, 0)::int, coalesce(mi.misses, 0)::int, coalesce(mi.baseline, 0)::int
  FROM pairs p
  JOIN product USING (sku)
  LEFT JOIN by_orders bo USING (sku, country, region)
  LEFT JOIN by_movements bm USING (sku, country, region)
  LEFT JOIN missed mi USING (sku, country, region)
  LEFT JOIN stocked st USING (sku, country, region)
 ORDER BY 1, 2, 3
"""

# A miss is put in the region of our location nearest the consumer in their country (any kind: the
# region is where the company stocks and plans). Unknown products, and countries where we have no placed
# location, are not counted.
RECORD_MISS = """
INSERT INTO where_to_buy_miss (sku, country, region, source, source_id, occurred_at)
SELECT %(sku)s, loc.country, loc.region, %(source)s, %(source_id)s, %(at)s
  FROM location loc
 WHERE loc.country = %(country)s AND loc.region <> '' AND loc.latitude IS NOT NULL
   AND EXISTS (SELECT 1 FROM product WHERE sku = %(sku)s)
 ORDER BY power(loc.latitude - %(lat)s, 2) + power((loc.longitude - %(lon)s) * cos(radians(%(lat)s)), 2),
          loc.id
 LIMIT 1
ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO NOTHING
RETURNING region
"""


def _prompt(row) -> Prompt:
    return Prompt(*row[:4], tuple(row[4]), *row[5:])


def prompt_event(event_type: str, prompt: Prompt) -> Event:
    return Event.of(SOURCE, event_type, convert.restock_prompt_to_pb(prompt), correlation_id=prompt.id)


async def _update(conn, p: Prompt) -> bool:
    """Today's figures on an open prompt (and its clearing, when `cleared_at` is set)."""
    done = await conn.execute(
        "UPDATE restock_prompt SET reasons = %s, units_sold = %s, available = %s, misses = %s,"
        " usual_misses = %s, window_days = %s, cover_threshold_days = %s, evaluated_at = %s, cleared_at = %s"
        " WHERE id = %s AND cleared_at IS NULL",
        (list(p.reasons), *astuple(p)[5:11], p.evaluated_at, p.cleared_at, p.id),
    )
    return done.rowcount > 0


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _all(self, query: str, params=()) -> list[tuple]:
        async with autocommit(self.pool) as conn:
            return await (await conn.execute(query, params)).fetchall()

    async def policy(self) -> Policy:
        """The default thresholds with every product's and region's own cover threshold."""
        async with autocommit(self.pool) as conn:
            row = await (await conn.execute(f"SELECT {POLICY_COLUMNS} FROM restock_policy")).fetchone()
            return Policy(*row, overrides=await thresholds_store.overrides(conn))

    async def policy_row(self) -> tuple[Policy, str, datetime]:
        [row] = await self._all(f"SELECT {POLICY_COLUMNS}, updated_by, updated_at FROM restock_policy")
        return Policy(*row[:5]), row[5], row[6]

    async def set_policy(self, policy: Policy, actor: str) -> None:
        """Change the default thresholds, audited with their values before and after."""
        values = [getattr(policy, name) for name in POLICY_NAMES]
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(f"SELECT {POLICY_COLUMNS} FROM restock_policy FOR UPDATE")
            ).fetchone()
            await conn.execute(
                "UPDATE restock_policy SET cover_days = %s, window_days = %s, baseline_windows = %s,"
                " miss_factor = %s, min_misses = %s, updated_by = %s, updated_at = now()",
                (*values, actor),
            )
            before, after = (
                dict(zip(POLICY_NAMES, row, strict=True)),
                dict(zip(POLICY_NAMES, values, strict=True)),
            )
            if before != after:
                await thresholds_store.record_change(conn, ("", "", ""), actor, before, after)
            await conn.commit()

    async def figures(self, now: datetime, policy: Policy) -> list[Figures]:
        rows = await self._all(
            FIGURES,
            {
                "now": now,
                "days": policy.window_days,
                "baseline": policy.baseline_windows,
                "not_sold": list(NOT_SOLD),
            },
        )
        return [Figures(*row) for row in rows]

    async def open_prompts(self, *, sku: str = "", region: str = "") -> list[Prompt]:
        rows = await self._all(
            f"SELECT {PROMPT_COLUMNS} FROM restock_prompt WHERE cleared_at IS NULL"
            " AND (%(sku)s = '' OR sku = %(sku)s) AND (%(region)s = '' OR region = %(region)s)"
            " ORDER BY raised_at, sku, country, region",
            {"sku": sku, "region": region},
        )
        return [_prompt(r) for r in rows]

    async def apply(self, decisions: Decisions) -> Decisions:
        # Each write is conditional on the prompt's state, so two evaluators deciding from the same
        # figures raise and clear it once between them: the event goes with the write that happened.
        raised, refreshed, cleared = [], [], []
        async with self.pool.connection() as conn:
            for p in decisions.raised:
                row = await (
                    await conn.execute(
                        f"INSERT INTO restock_prompt ({PROMPT_COLUMNS.replace('::text', '')})"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (sku, country, region) WHERE cleared_at IS NULL DO NOTHING RETURNING id",
                        (*astuple(p)[:4], list(p.reasons), *astuple(p)[5:]),
                    )
                ).fetchone()
                if row is not None:
                    await outbox.add_event(conn, prompt_event(RAISED, p))
                    raised.append(p)
            for p in decisions.refreshed:
                if await _update(conn, p):
                    refreshed.append(p)
            for p in decisions.cleared:
                if await _update(conn, p):
                    await outbox.add_event(conn, prompt_event(CLEARED, p))
                    cleared.append(p)
            await conn.commit()
        return Decisions(raised, refreshed, cleared)

    async def record_miss(
        self,
        *,
        sku: str,
        country: str,
        latitude: float,
        longitude: float,
        at: datetime,
        source: str = "where_to_buy",
        source_id: str | None = None,
    ) -> str | None:
        """Count a miss; the region it was put in, or None when it could not be placed (or was counted)."""
        rows = await self._all(
            RECORD_MISS,
            {
                "sku": sku,
                "country": country,
                "lat": latitude,
                "lon": longitude,
                "at": at,
                "source": source,
                "source_id": source_id,
            },
        )
        return rows[0][0] if rows else None
