"""Demo and benchmark data for fulfillment: a consumer-goods catalogue, orders and the product tally.

`seed_demo` writes through the same code as the service (`store.record_order`); `seed_bulk` loads up to
a million consumers with COPY, computing the tally as it generates the orders.
"""

from __future__ import annotations

import io
import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from services.cli.seed import consumer_id
from services.fulfillment import seed_sales, store, where_to_buy
from services.fulfillment.catalogue import CHANNELS, Order, OrderLine, Product, upc_check_digit
from services.fulfillment.orders_import_store import order_placed
from services.runtime.db import connect, copy_text, stage_ids
from services.runtime.outbox import add_event_now

ORDERS_NAMESPACE = uuid.UUID("0c7a5f0e-5d52-4f0b-8a4e-7f8b5a0d6e11")
COMPANY_PREFIX = "0712345"  # a GS1 company prefix: every UPC below is this plus an item number
DEMO_CONSUMERS = 10
CHUNK = 20_000

# (SKU, name, category, size, price in cents)
RANGE = [
    ("FD-OAT-500", "Golden Rolled Oats", "foods", "500 g", 349),
    ("FD-OAT-1K", "Golden Rolled Oats", "foods", "1 kg", 599),
    ("FD-GRN-375", "Honey Nut Granola", "foods", "375 g", 479),
    ("FD-CRN-500", "Crunchy Corn Flakes", "foods", "500 g", 389),
    ("FD-PB-340", "Smooth Peanut Butter", "foods", "340 g", 429),
    ("FD-TOM-400", "Chopped Tomatoes", "foods", "400 g", 119),
    ("FD-PAS-500", "Durum Wheat Penne", "foods", "500 g", 179),
    ("FD-SOU-400", "Cream of Mushroom Soup", "foods", "400 g", 229),
    ("FD-BAR-6", "Chewy Oat Bars", "foods", "6 x 35 g", 329),
    ("FD-BBY-120", "Apple & Pear Baby Puree", "foods", "120 g", 149),
    ("FD-CHO-100", "Dark Chocolate 70%", "foods", "100 g", 279),
    ("BV-COF-250", "Classic Roast Ground Coffee", "beverages", "250 g", 699),
    ("BV-COF-P10", "Espresso Capsules", "beverages", "10 capsules", 449),
    ("BV-TEA-80", "English Breakfast Tea", "beverages", "80 bags", 399),
    ("BV-COL-12", "Original Cola", "beverages", "12 x 330 ml", 699),
    ("BV-COLZ-12", "Zero Sugar Cola", "beverages", "12 x 330 ml", 699),
    ("BV-OJ-1L", "Orange Juice, No Pulp", "beverages", "1 l", 329),
    ("BV-WAT-6", "Sparkling Spring Water", "beverages", "6 x 1.5 l", 449),
    ("BV-ISO-500", "Citrus Sports Drink", "beverages", "500 ml", 189),
    ("HH-DET-2L", "Bio Laundry Liquid", "household", "2 l (40 washes)", 899),
    ("HH-DSH-30", "Dishwasher Tablets", "household", "30 tablets", 749),
    ("HH-DSL-500", "Lemon Washing-up Liquid", "household", "500 ml", 199),
    ("HH-SPR-750", "Multi-surface Cleaner Spray", "household", "750 ml", 299),
    ("HH-BLE-1L", "Thick Bleach", "household", "1 l", 149),
    ("HH-TOW-4", "Kitchen Towels", "household", "4 rolls", 459),
    ("HH-TP-9", "Soft Toilet Tissue", "household", "9 rolls", 549),
    ("HH-BAG-20", "Pedal Bin Liners", "household", "20 bags", 249),
    ("PC-SHA-400", "Repair Shampoo", "personal care", "400 ml", 449),
    ("PC-CON-400", "Repair Conditioner", "personal care", "400 ml", 449),
    ("PC-TPS-75", "Whitening Toothpaste", "personal care", "75 ml", 249),
    ("PC-TBR-2", "Medium Toothbrush", "personal care", "2 pack", 399),
    ("PC-DEO-150", "Fresh Antiperspirant Spray", "personal care", "150 ml", 329),
    ("PC-SOP-4", "Moisturising Bar Soap", "personal care", "4 x 90 g", 299),
    ("PC-BDW-500", "Shower Gel, Sensitive", "personal care", "500 ml", 379),
    ("PC-LOT-250", "Daily Body Lotion", "personal care", "250 ml", 599),
    ("PC-SUN-200", "Sun Lotion SPF 30", "personal care", "200 ml", 1099),
    ("PC-NAP-36", "Baby Nappies, Size 4", "personal care", "36 nappies", 1199),
    ("PC-WIP-64", "Sensitive Baby Wipes", "personal care", "64 wipes", 249),
    ("DG-KET-17", "Cordless Kettle", "durable goods", "1.7 l", 3499),
    ("DG-TST-2", "Two-slice Toaster", "durable goods", "2 slice", 2999),
]


def upc(item: int) -> str:
    body = f"{COMPANY_PREFIX}{item:04d}"
    return body + str(upc_check_digit(body))


PRODUCTS = [
    Product(sku, upc(n), name, cat, size) for n, (sku, name, cat, size, _) in enumerate(RANGE, start=1)
]
PRICES = {sku: price for sku, _, _, _, price in RANGE}


def order_id(consumer: str, n: int) -> str:
    return str(uuid.uuid5(ORDERS_NAMESPACE, f"{consumer}/{n}"))


def _orders_for(consumer: str, rng: random.Random, count: int, today: datetime) -> list[Order]:
    # A consumer tends to rebuy a few favourites, so their "bought most often" is meaningful.
    favourites = rng.sample(PRODUCTS, 4)
    orders = []
    for n in range(count):
        chosen = {
            p.sku: p
            for p in rng.sample(favourites, rng.randint(1, 2)) + rng.sample(PRODUCTS, rng.randint(0, 1))
        }
        channel = rng.choices(CHANNELS, weights=(5, 2, 3, 1))[0]
        orders.append(
            Order(
                id=order_id(consumer, n),
                consumer_id=consumer,
                placed_at=today - timedelta(days=rng.randint(1, 720), minutes=rng.randint(0, 1439)),
                channel=channel,
                status="delivered"
                if rng.random() < 0.9
                else rng.choice(("shipped", "returned", "cancelled")),
                currency="USD",
                lines=[OrderLine(p, rng.randint(1, 4), PRICES[p.sku]) for p in chosen.values()],
                location_id=_sold_from(consumer, channel),
            )
        )
    return orders


def _sold_from(consumer: str, channel: str) -> str:
    """The demo consumers live on either coast: they shop at its store and are shipped from its centre."""
    east = int(uuid.UUID(consumer)) % 2 == 0
    if channel == "retail":
        return "ST-US-NYC-01" if east else "ST-US-SF-01"
    return "DC-US-EAST" if east else "DC-US-WEST"


# (id, name, kind, country, region, postcode, latitude, longitude, countries it ships to)
LOCATIONS = [
    (
        "DC-US-EAST",
        "Allentown distribution centre",
        "distribution_centre",
        "US",
        "Northeast",
        "18109",
        40.6023,
        -75.4714,
        ["US", "CA"],
    ),
    (
        "DC-US-WEST",
        "Reno distribution centre",
        "distribution_centre",
        "US",
        "West",
        "89502",
        39.5296,
        -119.8138,
        ["US", "CA"],
    ),
    (
        "WH-FR-IDF",
        "Entrepôt Île-de-France",
        "warehouse",
        "FR",
        "Île-de-France",
        "95700",
        49.0097,
        2.5479,
        ["FR", "BE", "LU"],
    ),
    ("WH-JP-KANTO", "関東倉庫", "warehouse", "JP", "Kanto", "272-0001", 35.7326, 139.9167, ["JP"]),
    (
        "ST-US-NYC-01",
        "Main Street Market, Manhattan",
        "store",
        "US",
        "Northeast",
        "10001",
        40.7506,
        -73.9971,
        [],
    ),
    ("ST-US-SF-01", "Bay Grocers, Mission", "store", "US", "West", "94110", 37.7486, -122.4184, []),
    ("ST-FR-PAR-01", "Épicerie du Marais", "store", "FR", "Île-de-France", "75004", 48.8575, 2.3514, []),
]


# A shelf restocks below a week's sales, a warehouse below a month's: so a few demo shelves start below.
REORDER_POINTS = {"store": 6, "warehouse": 60, "distribution_centre": 80}


def demo_postcodes() -> list[tuple[str, str, float, float]]:
    """Every US ZIP code's centre, from the zipcodes package's bundled data, and the demo locations' own
    postcodes at their coordinates; other countries' postcodes are imported (crs postcodes import)."""
    import zipcodes

    places = {}
    for z in zipcodes.list_all():
        lat, lon = float(z.get("lat") or 0), float(z.get("long") or 0)
        if lat or lon:  # military (APO/FPO) ZIP codes have no place on the map
            places[("US", z["zip_code"])] = (lat, lon)
    for _id, _name, _kind, country, _region, postcode, lat, lon, _serves in LOCATIONS:
        places.setdefault((country, where_to_buy.normalise_postcode(country, postcode)), (lat, lon))
    return [(country, postcode, lat, lon) for (country, postcode), (lat, lon) in sorted(places.items())]


def _opening_stock() -> list[tuple[str, str, int]]:
    # Deterministic, so seeding twice gives the same numbers; a few store shelves are empty on purpose.
    rng = random.Random("demo-stock")
    counts = []
    for product in PRODUCTS:
        for location in LOCATIONS:
            store_shelf = location[2] == "store"
            count = rng.randint(0, 24) if store_shelf else rng.randint(40, 400)
            if product.sku == seed_sales.PUSHED_SKU:
                count = seed_sales.PUSHED_STOCK.get(location[0], count)
            counts.append((product.sku, location[0], count))
    return counts


# The standard-paragraph library a new user finds, and a standard letter composed from it.
STANDARD_PARAGRAPHS = [
    ("apology_foreign_object", "en", "We are very sorry to hear that you found something in our product that"
     " should not have been there. Your safety matters to us, and we understand how unpleasant this was."),
    ("apology_foreign_object", "fr", "Nous sommes sincèrement désolés d'apprendre que vous avez trouvé dans notre"
     " produit un objet qui n'aurait jamais dû s'y trouver. Votre sécurité compte avant tout pour nous."),
    ("quality_review", "en", "Our quality team will examine the production batch and let you know what they find."),
    ("quality_review", "fr", "Notre service qualité va examiner le lot de production et vous tiendra informé(e)."),
    ("thanks_for_writing", "en", "Thank you for taking the time to write to us."),
    ("thanks_for_writing", "fr", "Nous vous remercions d'avoir pris le temps de nous écrire."),
]  # fmt: skip
FOREIGN_OBJECT_LETTER = [
    ("en", "About the object you found", "Dear {name},", "Yours sincerely, Consumer Care"),
    ("fr", "Au sujet de l'objet trouvé", "Madame, Monsieur {name},",
     "Veuillez agréer nos salutations distinguées. Le service consommateurs"),
]  # fmt: skip
FOREIGN_OBJECT_PARAGRAPHS = [
    "{{paragraph:thanks_for_writing}}",
    "{{paragraph:apology_foreign_object}}",
    "{{paragraph:quality_review}}",
]


def seed_letters(conn: psycopg.Connection) -> None:
    """The standard paragraphs and the foreign-object letter naming them, each only when it is missing, so
    an admin's edits survive running the seed again."""
    conn.cursor().executemany(
        "INSERT INTO standard_paragraph (name, language, text, updated_by) VALUES (%s, %s, %s, 'seed')"
        " ON CONFLICT DO NOTHING",
        STANDARD_PARAGRAPHS,
    )
    conn.cursor().executemany(
        "INSERT INTO letter_template (name, language, subject, greeting, paragraphs, closing)"
        " VALUES ('foreign-object', %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [(lang, subject, greeting, FOREIGN_OBJECT_PARAGRAPHS, closing)
         for lang, subject, greeting, closing in FOREIGN_OBJECT_LETTER],
    )  # fmt: skip


def seed_demo(database_url: str) -> None:
    """The catalogue, locations with opening stock, a few orders for each demo consumer, and four weeks of
    sales at the locations (seed_sales); running it again changes nothing."""
    today = datetime.now(UTC).replace(second=0, microsecond=0)
    with connect(database_url, schema="fulfillment") as conn:
        store.upsert_products(conn, PRODUCTS)
        store.upsert_locations(conn, LOCATIONS)
        store.receive_stock_once(conn, _opening_stock())
        store.set_reorder_points_once(conn, REORDER_POINTS)
        store.load_postcodes_once(conn, demo_postcodes())
        for i in range(DEMO_CONSUMERS):
            consumer = consumer_id(i)
            rng = random.Random(f"demo-{i}")
            for order in _orders_for(consumer, rng, 2 + i % 5, today):
                store.record_order(conn, order)
        for order in seed_sales.orders(PRODUCTS, PRICES, today):
            store.record_order(conn, order)
        _plant_recalled_purchase(conn, today)
        store.record_misses_once(conn, seed_sales.misses(today))
        seed_letters(conn)
        conn.commit()


# The oats insights' demo plants a lot problem in (services/insights/seed.py), bought by Jane Doe, the demo
# consumer who rings ada (docs/console.md), while that lot was on sale.
RECALLED_SKU = "FD-OAT-500"
RECALLED_BOUGHT_DAYS_AGO = 20


def _plant_recalled_purchase(conn: psycopg.Connection, today: datetime) -> None:
    """Jane Doe's order of the oats, so that once the recall is opened her next call pops with its script.
    Its order_placed goes out through the outbox as an imported order's does, for insights' buyers tally
    and outreach's recall audience."""
    consumer = consumer_id(0)
    oats = next(p for p in PRODUCTS if p.sku == RECALLED_SKU)
    order = Order(
        id=order_id(consumer, "recalled-oats"),
        consumer_id=consumer,
        placed_at=today - timedelta(days=RECALLED_BOUGHT_DAYS_AGO),
        channel="web",
        status="delivered",
        currency="USD",
        lines=[OrderLine(oats, 2, PRICES[oats.sku])],
    )
    if store.record_order(conn, order):
        add_event_now(conn, order_placed(order.id, consumer, order.placed_at, "", [oats.sku]))


def seed_bulk(database_url: str, consumer_ids: list[str]) -> None:
    """Orders for half of `consumer_ids` (1 to 5 each), loaded with COPY; replaces what those consumers had."""
    today = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = random.Random(20240601)
    with connect(database_url, schema="fulfillment") as conn:
        conn.execute("SET synchronous_commit = off")
        store.upsert_products(conn, PRODUCTS)
        _forget(conn, consumer_ids)
        for start in range(0, len(consumer_ids), CHUNK):
            orders_buf, lines_buf, tally_buf = io.StringIO(), io.StringIO(), io.StringIO()
            for consumer in consumer_ids[start : start + CHUNK]:
                if rng.random() >= 0.5:
                    continue
                tally: dict[str, list] = {}
                for order in _orders_for(consumer, rng, rng.randint(1, 5), today):
                    placed = order.placed_at.isoformat()
                    orders_buf.write(
                        f"{order.id}\t{consumer}\t{placed}\t{order.channel}\t{order.status}\tUSD\t{order.total_minor}\n"
                    )
                    for n, line in enumerate(order.lines, start=1):
                        sku = line.product.sku
                        lines_buf.write(f"{order.id}\t{n}\t{sku}\t{line.quantity}\t{line.unit_price_minor}\n")
                        count = tally.setdefault(sku, [0, 0, order.placed_at])
                        count[0] += 1
                        count[1] += line.quantity
                        count[2] = max(count[2], order.placed_at)
                for sku, (orders, units, last) in tally.items():
                    tally_buf.write(f"{consumer}\t{sku}\t{orders}\t{units}\t{last.isoformat()}\n")
            copy_text(
                conn,
                "orders",
                "id, consumer_id, placed_at, channel, status, currency, total_minor",
                orders_buf.getvalue(),
            )
            copy_text(
                conn, "order_line", "order_id, line_no, sku, quantity, unit_price_minor", lines_buf.getvalue()
            )
            copy_text(
                conn,
                "consumer_product",
                "consumer_id, sku, orders, units, last_bought_at",
                tally_buf.getvalue(),
            )
        conn.commit()
        conn.execute("ANALYZE orders; ANALYZE order_line; ANALYZE consumer_product")


def _forget(conn: psycopg.Connection, consumer_ids: list[str]) -> None:
    """Remove what a previous bulk load gave these consumers, so loading again gives the same data."""
    stage_ids(conn, consumer_ids, table="seed_consumer")
    (already,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM orders o JOIN seed_consumer s ON s.id = o.consumer_id LIMIT 1) x"
    ).fetchone()
    if already:
        conn.execute("DELETE FROM consumer_product c USING seed_consumer s WHERE c.consumer_id = s.id")
        conn.execute("DELETE FROM orders o USING seed_consumer s WHERE o.consumer_id = s.id")
