"""Seeding fulfillment: demo history read back in order; a bulk load whose tally matches its orders; the
demo's sell-through, which prompts one restock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.cli.seed import consumer_id
from services.fulfillment import restock, seed, seed_sales
from services.fulfillment.catalogue import is_valid_upc
from services.fulfillment.restock_store import SqlStore as RestockStore
from services.fulfillment.store import SqlStore
from services.runtime.db import connect, open_pool
from tests.support import infra


async def test_demo_consumers_have_orders_and_favourites_and_seeding_twice_changes_nothing(database_url):
    seed.seed_demo(database_url)
    seed.seed_demo(database_url)
    pool = await open_pool(database_url, schema="fulfillment", min_size=1, max_size=2)
    try:
        store = SqlStore(pool)
        histories = [await store.purchase_history(consumer_id(i), 50, 5) for i in range(10)]
    finally:
        await pool.close()
    # Each has 2 to 6 orders; Jane Doe (the first) one more: the oats of the lot insights' demo plants.
    assert [len(h.orders) for h in histories] == [2 + i % 5 + (i == 0) for i in range(10)]
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


async def test_the_demo_sells_through_its_locations_and_prompts_one_restock_however_often_seeded():
    """The demo's four weeks of sales at its stores and centres give steady cover everywhere but sun
    lotion in US/West, sold faster than the region's stock lasts and not found near consumers there."""
    with infra.migrated_database("crs_seed_sales") as url:
        seed.seed_demo(url)
        with connect(url, schema="fulfillment") as conn:
            first = conn.execute(SALES).fetchall()
        pool = await open_pool(url, schema="fulfillment", min_size=1, max_size=2)
        try:
            planner = RestockStore(pool)
            decided = await restock.evaluate(planner, datetime.now(UTC))
            seed.seed_demo(url)
            again = await planner.figures(datetime.now(UTC), await planner.policy())
        finally:
            await pool.close()
        with connect(url, schema="fulfillment") as conn:
            assert conn.execute(SALES).fetchall() == first
            misses = conn.execute("SELECT count(*) FROM where_to_buy_miss").fetchone()[0]
    regions = {(country, region) for _location, country, region, _orders, _units in first}
    assert regions == {("US", "Northeast"), ("US", "West"), ("FR", "Île-de-France"), ("JP", "Kanto")}
    assert {location for location, *_ in first} == {loc[0] for loc in seed.LOCATIONS}
    assert misses == sum(count for _day, count in seed_sales.PUSHED_MISSES)

    [prompt] = decided.raised
    assert (prompt.sku, prompt.country, prompt.region) == ("PC-SUN-200", "US", "West")
    assert prompt.reasons == (restock.LOW_COVER, restock.MISSES_CLIMBING)
    assert prompt.available == 42 and prompt.misses == 6 and prompt.usual_misses == 0.5
    assert prompt.days_of_cover < 7
    # Everything else that sold has weeks of stock, and seeding again sold nothing more.
    steady = [f for f in again if f.key != prompt.key]
    assert len(steady) > 100
    assert all(restock.days_of_cover(f.units_sold, f.available, 14) > 30 for f in steady if f.units_sold)
    [pushed] = [f for f in again if f.key == prompt.key]
    assert pushed.units_sold == prompt.units_sold


# Per location: its country and region, orders sold there, and units.
SALES = (
    "SELECT l.id, l.country, l.region, count(DISTINCT o.id), sum(ol.quantity) FROM orders o"
    " JOIN order_line ol ON ol.order_id = o.id JOIN location l ON l.id = o.location_id GROUP BY 1, 2, 3"
    " ORDER BY 1"
)
