"""Seeding fulfillment: demo history read back in order; a bulk load whose tally matches its orders."""

from __future__ import annotations

import uuid

from services.cli.seed import consumer_id
from services.fulfillment import seed
from services.fulfillment.catalogue import is_valid_upc
from services.fulfillment.store import SqlStore
from services.runtime.db import connect, open_pool


async def test_demo_consumers_have_orders_and_favourites_and_seeding_twice_changes_nothing(database_url):
    seed.seed_demo(database_url)
    seed.seed_demo(database_url)
    pool = await open_pool(database_url, schema="fulfillment", min_size=1, max_size=2)
    try:
        store = SqlStore(pool)
        histories = [await store.purchase_history(consumer_id(i), 50, 5) for i in range(10)]
    finally:
        await pool.close()
    assert [len(h.orders) for h in histories] == [2 + i % 5 for i in range(10)]
    for history in histories:
        placed = [o.placed_at for o in history.orders]
        assert placed == sorted(placed, reverse=True)
        assert history.top_products and history.orders[0].lines[0].product.name
    assert all(is_valid_upc(p.upc) for p in seed.PRODUCTS)
    assert {p.category for p in seed.PRODUCTS} >= {"foods", "beverages", "household", "personal care"}


def test_bulk_load_gives_half_the_consumers_orders_and_a_tally_that_matches_them(database_url):
    ids = [str(uuid.uuid4()) for _ in range(2000)]
    seed.seed_bulk(database_url, ids)
    seed.seed_bulk(database_url, ids)
    with connect(database_url, schema="fulfillment") as conn:
        (buyers,) = conn.execute(
            "SELECT count(DISTINCT consumer_id) FROM orders WHERE consumer_id = ANY(%s::uuid[])", (ids,)
        ).fetchone()
        (wrong,) = conn.execute(
            "WITH truth AS (SELECT o.consumer_id, l.sku, count(DISTINCT o.id) AS orders, sum(l.quantity) AS units,"
            "   max(o.placed_at) AS last FROM orders o JOIN order_line l ON l.order_id = o.id"
            "   WHERE o.consumer_id = ANY(%s::uuid[]) GROUP BY 1, 2)"
            " SELECT count(*) FROM truth t FULL JOIN (SELECT * FROM consumer_product"
            "   WHERE consumer_id = ANY(%s::uuid[])) c USING (consumer_id, sku)"
            " WHERE c.orders IS DISTINCT FROM t.orders OR c.units IS DISTINCT FROM t.units"
            "   OR c.last_bought_at IS DISTINCT FROM t.last",
            (ids, ids),
        ).fetchone()
    assert 850 < buyers < 1150
    assert wrong == 0


def test_the_demo_holds_locations_with_stock_and_seeding_again_keeps_the_counts(database_url):
    seed.seed_demo(database_url)
    with connect(database_url, schema="fulfillment") as conn:
        before = conn.execute("SELECT sku, location_id, on_hand FROM stock ORDER BY 1, 2").fetchall()
        kinds = dict(conn.execute("SELECT kind, count(*) FROM location GROUP BY kind").fetchall())
    seed.seed_demo(database_url)
    with connect(database_url, schema="fulfillment") as conn:
        after = conn.execute("SELECT sku, location_id, on_hand FROM stock ORDER BY 1, 2").fetchall()
    assert kinds.keys() >= {"distribution_centre", "warehouse", "store"}
    demo = [row for row in after if row[1] in {loc[0] for loc in seed.LOCATIONS}]
    assert len(demo) == len(seed.PRODUCTS) * len(seed.LOCATIONS)
    assert all(on_hand >= 40 for sku, loc, on_hand in demo if loc.startswith("DC-"))
    assert [r for r in before if r in demo] == [r for r in after if r in demo]
