"""Products, orders and the per-consumer product tally in PostgreSQL (schema `fulfillment`): SQL only."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.fulfillment.catalogue import (
    Order,
    OrderLine,
    Product,
    ProductCount,
    PurchaseHistory,
    units_by_product,
)
from services.runtime.db import autocommit

PRODUCT_COLUMNS = "sku, coalesce(upc, ''), name, category, size"

# One round trip: the last orders with their lines, and the top of the tally, both through the
# consumer's indexes (orders_by_consumer, consumer_product_ranked), folded into two JSON arrays.
HISTORY = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(
            o.id, (extract(epoch FROM o.placed_at) * 1000000)::bigint, o.channel, o.status, o.currency,
            (SELECT coalesce(json_agg(json_build_array(
                       l.quantity, l.unit_price_minor, p.sku, coalesce(p.upc, ''), p.name, p.category, p.size)
                       ORDER BY l.line_no), '[]')
               FROM order_line l JOIN product p ON p.sku = l.sku
              WHERE l.order_id = o.id))
          ORDER BY o.placed_at DESC, o.id DESC), '[]')
     FROM (SELECT id, placed_at, channel, status, currency FROM orders
            WHERE consumer_id = %(consumer)s
            ORDER BY placed_at DESC, id DESC LIMIT %(orders)s) o),
  (SELECT coalesce(json_agg(json_build_array(
            t.orders, t.units, (extract(epoch FROM t.last_bought_at) * 1000000)::bigint,
            p.sku, coalesce(p.upc, ''), p.name, p.category, p.size)
          ORDER BY t.orders DESC, t.units DESC, t.last_bought_at DESC, t.sku), '[]')
     FROM (SELECT sku, orders, units, last_bought_at FROM consumer_product
            WHERE consumer_id = %(consumer)s
            ORDER BY orders DESC, units DESC, last_bought_at DESC, sku LIMIT %(top)s) t
     JOIN product p ON p.sku = t.sku)
"""


def _when(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


def _product(row) -> Product:
    sku, upc, name, category, size = row
    return Product(sku=sku, upc=upc, name=name, category=category, size=size)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _read(self, query: str, params) -> list[tuple]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def purchase_history(
        self, consumer_id: str, last_orders: int, top_products: int
    ) -> PurchaseHistory:
        [(orders, top)] = await self._read(
            HISTORY, {"consumer": consumer_id, "orders": last_orders, "top": top_products}
        )
        return PurchaseHistory(
            consumer_id=consumer_id,
            orders=[
                Order(
                    id=order_id,
                    consumer_id=consumer_id,
                    placed_at=_when(placed),
                    channel=channel,
                    status=status,
                    currency=currency,
                    lines=[OrderLine(_product(line[2:]), line[0], line[1]) for line in lines],
                )
                for order_id, placed, channel, status, currency, lines in orders
            ],
            top_products=[ProductCount(_product(row[3:]), row[0], row[1], _when(row[2])) for row in top],
        )

    async def product(self, *, sku: str, upc: str) -> Product | None:
        if sku and upc:
            where, params = "sku = %s AND upc = %s", (sku, upc)
        elif sku:
            where, params = "sku = %s", (sku,)
        else:
            where, params = "upc = %s", (upc,)
        rows = await self._read(f"SELECT {PRODUCT_COLUMNS} FROM product WHERE {where}", params)
        return _product(rows[0]) if rows else None

    async def products(self, *, query: str, after_sku: str, limit: int) -> list[Product]:
        if query:
            prefix = _escape_like(query) + "%"
            rows = await self._read(
                f"SELECT {PRODUCT_COLUMNS} FROM product"
                " WHERE sku > %(after)s"
                " AND (lower(name) LIKE %(contains)s OR upper(sku) LIKE upper(%(prefix)s) OR upc LIKE %(prefix)s)"
                " ORDER BY sku LIMIT %(limit)s",
                {
                    "after": after_sku,
                    "contains": "%" + _escape_like(query.lower()) + "%",
                    "prefix": prefix,
                    "limit": limit,
                },
            )
        else:
            rows = await self._read(
                f"SELECT {PRODUCT_COLUMNS} FROM product WHERE sku > %s ORDER BY sku LIMIT %s",
                (after_sku, limit),
            )
        return [_product(row) for row in rows]


# Writing: used by the seeders now, and by the fulfillment workflows later. Blocking psycopg.


def upsert_products(conn: psycopg.Connection, products: list[Product]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO product (sku, upc, name, category, size) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (sku) DO UPDATE SET upc = excluded.upc, name = excluded.name,"
            " category = excluded.category, size = excluded.size",
            [(p.sku, p.upc or None, p.name, p.category, p.size) for p in products],
        )


def record_order(conn: psycopg.Connection, order: Order) -> bool:
    """Write an order, its lines and its share of the tally; False when the order was already there."""
    inserted = conn.execute(
        "INSERT INTO orders (id, consumer_id, placed_at, channel, status, currency, total_minor, location_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (
            order.id,
            order.consumer_id,
            order.placed_at,
            order.channel,
            order.status,
            order.currency,
            order.total_minor,
            order.location_id or None,
        ),
    ).fetchone()
    if inserted is None:
        return False
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor) VALUES (%s, %s, %s, %s, %s)",
            [
                (order.id, n, line.product.sku, line.quantity, line.unit_price_minor)
                for n, line in enumerate(order.lines, start=1)
            ],
        )
        cur.executemany(
            "INSERT INTO consumer_product (consumer_id, sku, orders, units, last_bought_at)"
            " VALUES (%s, %s, 1, %s, %s)"
            " ON CONFLICT (consumer_id, sku) DO UPDATE SET orders = consumer_product.orders + 1,"
            " units = consumer_product.units + excluded.units,"
            " last_bought_at = greatest(consumer_product.last_bought_at, excluded.last_bought_at)",
            [
                (order.consumer_id, sku, units, order.placed_at)
                for sku, units in units_by_product(order).items()
            ],
        )
    return True


def upsert_locations(conn: psycopg.Connection, locations: list[tuple]) -> None:
    """(id, name, kind, country, region, postcode, latitude, longitude, serves) per location."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO location (id, name, kind, country, region, postcode, latitude, longitude, serves)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
            " kind = excluded.kind, country = excluded.country, region = excluded.region,"
            " postcode = excluded.postcode, latitude = excluded.latitude, longitude = excluded.longitude,"
            " serves = excluded.serves",
            locations,
        )


def receive_stock_once(conn: psycopg.Connection, counts: list[tuple[str, str, int]]) -> None:
    """Opening stock per (sku, location): received where there was none, left alone where there is."""
    with conn.cursor() as cur:
        cur.executemany(
            "WITH put AS (INSERT INTO stock (sku, location_id, on_hand) VALUES (%s, %s, %s)"
            " ON CONFLICT (sku, location_id) DO NOTHING RETURNING sku, location_id, on_hand)"
            " INSERT INTO stock_movement (sku, location_id, kind, quantity)"
            " SELECT sku, location_id, 'received', on_hand FROM put",
            counts,
        )


def set_reorder_points_once(conn: psycopg.Connection, points: dict[str, int]) -> None:
    """A reorder point per location kind, where none is set yet: a planner's own figure is kept."""
    conn.execute(
        "UPDATE stock s SET reorder_point = p.point FROM location l,"
        " unnest(%s::text[], %s::int[]) AS p(kind, point)"
        " WHERE l.id = s.location_id AND l.kind = p.kind AND s.reorder_point = 0",
        (list(points), list(points.values())),
    )


def load_postcodes_once(conn: psycopg.Connection, places: list[tuple[str, str, float, float]]) -> None:
    """Postcode centres (country, normalised postcode, latitude, longitude); an imported one is kept."""
    conn.execute("CREATE TEMPORARY TABLE incoming_postcode (LIKE postcode) ON COMMIT DROP")
    with conn.cursor().copy("COPY incoming_postcode FROM STDIN") as copy:
        for place in places:
            copy.write_row(place)
    conn.execute(
        "INSERT INTO postcode SELECT * FROM incoming_postcode ON CONFLICT (country, postcode) DO NOTHING"
    )


def record_misses_once(conn: psycopg.Connection, misses: list[tuple[str, str, str, str, datetime]]) -> None:
    """Where-to-buy misses (sku, country, region, lookup id, when) known by an id of their own: one
    already recorded is left alone."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO where_to_buy_miss (sku, country, region, source, source_id, occurred_at)"
            " VALUES (%s, %s, %s, 'where_to_buy', %s, %s)"
            " ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO NOTHING",
            misses,
        )
