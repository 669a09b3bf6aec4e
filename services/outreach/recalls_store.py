"""Outreach's read models for recalls, fed by other services' events, and the recall's audience from them.

Contacts come from casework's contact events (consumer, issue code, product and lot of each contact);
purchases from fulfillment's order events. The audience rule is recalls.affected, here in SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.outreach.recalls import Purchase, Recall


class RecallStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def take_contact(self, case: dict[str, Any], occurred_at: datetime) -> None:
        """A contact as casework's event shows it; a later event about the same contact replaces it."""
        product = case.get("product") or {}
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO contact_fact (contact_id, consumer_id, issue_code, sku, lot_code, occurred_at)"
                " VALUES (%s, nullif(%s, '')::uuid, %s, %s, %s, %s) ON CONFLICT (contact_id) DO UPDATE SET"
                " consumer_id = excluded.consumer_id, issue_code = excluded.issue_code, sku = excluded.sku,"
                " lot_code = excluded.lot_code",
                (
                    case["id"],
                    case.get("consumer_id") or "",
                    case.get("issue_code") or "",
                    product.get("sku") or "",
                    product.get("lot_code") or "",
                    occurred_at,
                ),
            )

    async def take_purchases(self, order_id: str, placed_at: datetime, purchases: list[Purchase]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO purchase_fact (order_id, consumer_id, sku, lot_code, region, placed_at)"
                " SELECT %s, * , %s FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[])"
                " ON CONFLICT DO NOTHING",
                (
                    order_id,
                    placed_at,
                    [p.consumer_id for p in purchases],
                    [p.sku for p in purchases],
                    [p.lot_code for p in purchases],
                    [p.region for p in purchases],
                ),
            )

    async def affected(self, recall: Recall) -> list[str]:
        """The consumers a recall notice goes to, in a stable order."""
        lots, regions = list(recall.lot_codes), list(recall.regions)
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT consumer_id FROM purchase_fact WHERE sku = %(sku)s"
                    " AND (cardinality(%(regions)s::text[]) = 0 OR region = ANY(%(regions)s))"
                    " AND (cardinality(%(lots)s::text[]) = 0 OR lot_code = '' OR lot_code = ANY(%(lots)s))"
                    " UNION SELECT consumer_id FROM contact_fact WHERE consumer_id IS NOT NULL"
                    " AND (sku = %(sku)s OR (lot_code <> '' AND lot_code = ANY(%(lots)s)))"
                    " ORDER BY 1",
                    {"sku": recall.sku, "lots": lots, "regions": regions},
                )
            ).fetchall()
        return [str(r[0]) for r in rows]

    async def tally(self, recall_id: str) -> tuple[int, int]:
        """What the recall page shows: consumers the notice is for, and those it was sent to."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(r.consumer_id), count(*) FILTER (WHERE r.status = 'sent')"
                    " FROM campaign c LEFT JOIN campaign_recipient r ON r.campaign_id = c.id WHERE c.key = %s",
                    (f"recall:{recall_id}",),
                )
            ).fetchone()
        return (row[0], row[1]) if row else (0, 0)
