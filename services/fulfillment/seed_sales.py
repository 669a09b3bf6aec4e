"""The demo's sell-through: four weeks of sales at its stores and of web orders shipped from its
distribution centres and warehouses, so the restock prompts have figures after `make run`.

Steady sales everywhere leave weeks of cover. One product is pushed: a heatwave on the West Coast has
sun lotion selling several times faster than usual at the San Francisco store and from the Reno
distribution centre over the last days, against little stock in the region, and shoppers there failing to
find it nearby; so US/West is prompted for it, for low cover and for misses climbing, and nothing else is.

Every sale and miss has an id derived from what it is (the location, how many days ago, its number that
day), so seeding again, whenever, adds nothing.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from services.fulfillment.catalogue import Order, OrderLine, Product

NAMESPACE = uuid.UUID("5d0b3c1e-8f2a-4c6d-9e7b-1a2b3c4d5e6f")
DAYS = 28
SHOPPERS = 40  # regular shoppers per location: their orders also make a purchase history

# (location, channel, currency, orders a day)
OUTLETS = [
    ("ST-US-NYC-01", "retail", "USD", 4),
    ("ST-US-SF-01", "retail", "USD", 4),
    ("ST-FR-PAR-01", "retail", "EUR", 3),
    ("DC-US-EAST", "web", "USD", 3),
    ("DC-US-WEST", "web", "USD", 3),
    ("WH-FR-IDF", "web", "EUR", 2),
    ("WH-JP-KANTO", "web", "JPY", 3),
]
# Demo prices are in US cents; a euro cent is taken at par and a cent at 1.5 yen (yen have no minor unit).
MINOR_PER_CENT = {"USD": 1.0, "EUR": 1.0, "JPY": 1.5}

PUSHED_SKU = "PC-SUN-200"
PUSHED_DAYS = 6
# Units of the pushed product sold a day over the last PUSHED_DAYS, on top of the steady sales.
PUSHED_DAILY = {"ST-US-SF-01": 12, "DC-US-WEST": 8}
# What US/West holds of it: 42 available against about 9 a day sold over the 14-day window, under five
# days of cover (the prompt's default threshold is seven).
PUSHED_STOCK = {"ST-US-SF-01": 2, "DC-US-WEST": 40}
# Where-to-buy lookups near the region's consumers that found no stock: (days ago, how many).
PUSHED_MISSES = [(1, 2), (2, 2), (4, 1), (5, 1), (20, 1), (45, 1)]
PUSHED_REGION = ("US", "West")


def _id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _order(location, channel, currency, day, n, rng, when, lines, prices) -> Order:
    return Order(
        id=_id("sale", location, day, n),
        consumer_id=_id("shopper", location, rng.randrange(SHOPPERS)),
        placed_at=when,
        channel=channel,
        status="returned" if rng.random() < 0.03 else ("delivered" if day > 2 else "shipped"),
        currency=currency,
        lines=[
            OrderLine(product, quantity, round(prices[product.sku] * MINOR_PER_CENT[currency]))
            for product, quantity in lines
        ],
        location_id=location,
    )


def orders(products: list[Product], prices: dict[str, int], today: datetime) -> list[Order]:
    """The demo's sales over the last DAYS days before `today`, oldest first."""
    by_sku = {p.sku: p for p in products}
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    made = []
    for location, channel, currency, per_day in OUTLETS:
        rng = random.Random(f"demo-sales-{location}")
        for day in range(DAYS, 0, -1):
            opening = midnight - timedelta(days=day) + timedelta(hours=9)  # open from 09:00 UTC
            for n in range(per_day):
                lines = [(p, rng.randint(1, 2)) for p in rng.sample(products, rng.randint(1, 3))]
                when = opening + timedelta(minutes=rng.randint(0, 600))
                made.append(_order(location, channel, currency, day, n, rng, when, lines, prices))
            units = PUSHED_DAILY.get(location, 0) if day <= PUSHED_DAYS else 0
            n = per_day
            while units > 0:
                quantity = min(units, rng.randint(1, 3))
                units -= quantity
                when = opening + timedelta(minutes=rng.randint(0, 600))
                lines = [(by_sku[PUSHED_SKU], quantity)]
                made.append(_order(location, channel, currency, day, n, rng, when, lines, prices))
                n += 1
    return sorted(made, key=lambda o: (o.placed_at, o.id))


def misses(today: datetime) -> list[tuple[str, str, str, str, datetime]]:
    """Lookups for the pushed product that found no stocked store near the consumer, as
    (sku, country, region, lookup id, when)."""
    country, region = PUSHED_REGION
    return [
        (PUSHED_SKU, country, region, f"demo-{day}-{n}", today - timedelta(days=day, hours=n + 1))
        for day, count in PUSHED_MISSES
        for n in range(count)
    ]
