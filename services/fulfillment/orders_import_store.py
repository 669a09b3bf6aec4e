"""Imported orders' writes (schema `fulfillment`): each order once by its source id, with its lines, its
share of the consumer's purchase tally, and the units a sale after the location's last count takes from
its stock. SQL only; the file's rules are in orders_import.py."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from services.fulfillment.orders_import import ImportedOrder
from services.runtime import outbox
from services.runtime.events import Event

ORDER_PLACED = "order_placed"

# Stock counted or received after the sale already reflects it; only a later sale takes units away.
# Never below what is reserved there: a shortfall means the count was off, and the next count says so.
TAKE = """
SELECT s.on_hand - s.reserved
  FROM stock s
 WHERE s.sku = %(sku)s AND s.location_id = %(loc)s
   AND NOT EXISTS (SELECT 1 FROM stock_movement m
                    WHERE m.sku = %(sku)s AND m.location_id = %(loc)s
                      AND m.kind IN ('adjusted', 'received') AND m.occurred_at >= %(at)s)
   FOR UPDATE
"""


@dataclass(frozen=True)
class Written:
    orders_added: int = 0
    orders_already_imported: int = 0
    lines_added: int = 0
    units_taken_from_stock: int = 0


class OrdersImportStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def known(self, skus: set[str], locations: set[str]) -> tuple[set[str], set[str]]:
        async with self.pool.connection() as conn:
            found_skus = await (
                await conn.execute("SELECT sku FROM product WHERE sku = ANY(%s)", (list(skus),))
            ).fetchall()
            found_locations = await (
                await conn.execute("SELECT id FROM location WHERE id = ANY(%s)", (list(locations),))
            ).fetchall()
        return {r[0] for r in found_skus}, {r[0] for r in found_locations}

    async def add(self, orders: list[ImportedOrder]) -> Written:
        """Write the orders not yet imported, all in one transaction."""
        added = already = lines = taken = 0
        async with self.pool.connection() as conn:
            for order in orders:
                inserted = await (
                    await conn.execute(
                        "INSERT INTO orders (id, source_order_id, consumer_id, placed_at, channel, status,"
                        " currency, total_minor, location_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING RETURNING id",
                        (order.id, order.source_order_id, order.consumer_id, order.placed_at, order.channel,
                         order.status, order.currency, order.total_minor, order.location_id),
                    )
                ).fetchone()  # fmt: skip
                if inserted is None:
                    already += 1
                    continue
                added += 1
                lines += await _add_lines(conn, order)
                taken += await _take_from_stock(conn, order)
                if order.consumer_id:
                    await outbox.add_event(conn, await _order_placed(conn, order))
            await conn.commit()
        return Written(added, already, lines, taken)


async def _order_placed(conn, order: ImportedOrder) -> Event:
    """What outreach's read model needs of a consumer's order (products, where it was sold), no more."""
    region = ""
    if order.location_id:
        row = await (
            await conn.execute("SELECT region FROM location WHERE id = %s", (order.location_id,))
        ).fetchone()
        region = row[0] if row else ""
    return order_placed(
        order.id, order.consumer_id, order.placed_at, region, [line.sku for line in order.lines]
    )


def order_placed(order_id: str, consumer_id: str, placed_at, region: str, skus: list[str]) -> Event:
    """The order_placed event: the one shape outreach's and insights' read models take."""
    data = {
        "order_id": order_id,
        "consumer_id": consumer_id,
        "placed_at": placed_at.isoformat(),
        "region": region,
        "lines": [{"sku": sku, "lot_code": ""} for sku in skus],
    }
    return Event(source="fulfillment", type=ORDER_PLACED, data=data, correlation_id=order_id)


async def _add_lines(conn, order: ImportedOrder) -> int:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor) VALUES (%s, %s, %s, %s, %s)",
            [
                (order.id, n, line.sku, line.quantity, line.unit_price_minor)
                for n, line in enumerate(order.lines, 1)
            ],
        )
        if order.consumer_id is not None:
            units: dict[str, int] = {}
            for line in order.lines:
                units[line.sku] = units.get(line.sku, 0) + line.quantity
            await cur.executemany(
                "INSERT INTO consumer_product (consumer_id, sku, orders, units, last_bought_at)"
                " VALUES (%s, %s, 1, %s, %s)"
                " ON CONFLICT (consumer_id, sku) DO UPDATE SET orders = consumer_product.orders + 1,"
                " units = consumer_product.units + excluded.units,"
                " last_bought_at = greatest(consumer_product.last_bought_at, excluded.last_bought_at)",
                [(order.consumer_id, sku, n, order.placed_at) for sku, n in units.items()],
            )
    return len(order.lines)


async def _take_from_stock(conn, order: ImportedOrder) -> int:
    if order.location_id is None or order.status in ("cancelled", "returned"):
        return 0
    taken = 0
    for line in order.lines:
        params = {"sku": line.sku, "loc": order.location_id, "at": order.placed_at}
        row = await (await conn.execute(TAKE, params)).fetchone()
        units = min(line.quantity, row[0]) if row else 0
        if units <= 0:
            continue
        await conn.execute(
            "UPDATE stock SET on_hand = on_hand - %s WHERE sku = %s AND location_id = %s",
            (units, line.sku, order.location_id),
        )
        await conn.execute(
            "INSERT INTO stock_movement (sku, location_id, kind, quantity, occurred_at)"
            " VALUES (%s, %s, 'sold', %s, %s)",
            (line.sku, order.location_id, -units, order.placed_at),
        )
        taken += units
    return taken
