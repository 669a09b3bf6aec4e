"""Products, orders and purchase history as plain values, and the rules for reading them.

The store behind these functions is anything that speaks `Store` (SQL in production, fakes in the unit
tests).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

DEFAULT_LAST_ORDERS = 5
DEFAULT_TOP_PRODUCTS = 5
MAX_LAST_ORDERS = 50
MAX_TOP_PRODUCTS = 50
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY = 100
CHANNELS = ("web", "phone", "retail", "marketplace")


class InvalidRequest(ValueError):
    """The request cannot be answered as asked; the message says why."""


class ProductNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Product:
    sku: str
    upc: str
    name: str
    category: str = ""
    size: str = ""


@dataclass(frozen=True)
class OrderLine:
    product: Product
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class Order:
    id: str
    consumer_id: str
    placed_at: datetime
    channel: str
    status: str
    currency: str
    lines: list[OrderLine] = field(default_factory=list)
    # The store it was sold at or the location it shipped from; "" when not known (it then counts toward
    # no region's sell-through).
    location_id: str = ""

    @property
    def total_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines)


@dataclass(frozen=True)
class ProductCount:
    product: Product
    orders: int  # how many orders included it
    units: int
    last_bought_at: datetime


@dataclass(frozen=True)
class PurchaseHistory:
    consumer_id: str
    orders: list[Order]
    top_products: list[ProductCount]


def ranking_key(count: ProductCount) -> tuple:
    """Bought most often first: by orders, then units, then the most recent, then SKU for a stable order.

    The store's index `consumer_product_ranked` and its query follow the same order.
    """
    return (-count.orders, -count.units, -count.last_bought_at.timestamp(), count.product.sku)


def rank(counts: Iterable[ProductCount], limit: int) -> list[ProductCount]:
    return sorted(counts, key=ranking_key)[:limit]


def units_by_product(order: Order) -> dict[str, int]:
    """Units of each SKU in one order (a SKU on two lines counts once as an order)."""
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.product.sku] = units.get(line.product.sku, 0) + line.quantity
    return units


class Tally:
    """The running per-consumer count of products bought, updated order by order."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], ProductCount] = {}

    def add(self, order: Order) -> None:
        products = {line.product.sku: line.product for line in order.lines}
        for sku, units in units_by_product(order).items():
            key = (order.consumer_id, sku)
            before = self.counts.get(key)
            if before is None:
                self.counts[key] = ProductCount(products[sku], 1, units, order.placed_at)
            else:
                self.counts[key] = ProductCount(
                    before.product,
                    before.orders + 1,
                    before.units + units,
                    max(before.last_bought_at, order.placed_at),
                )

    def top(self, consumer_id: str, limit: int) -> list[ProductCount]:
        return rank((c for (cid, _), c in self.counts.items() if cid == consumer_id), limit)


def parse_consumer_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except (ValueError, AttributeError, TypeError):
        raise InvalidRequest(f"consumer_id must be a UUID, not {raw[:60]!r}") from None


def bounded(value: int, *, name: str, default: int, maximum: int) -> int:
    if value < 0:
        raise InvalidRequest(f"{name} must not be negative, not {value}")
    return min(value or default, maximum)


def upc_check_digit(body: str) -> int:
    """The GS1 check digit for the digits of a UPC or EAN without its last digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_upc(code: str) -> bool:
    """A UPC-A (12 digits), EAN-13 or EAN-8 with a correct check digit."""
    return code.isdigit() and len(code) in (8, 12, 13) and upc_check_digit(code[:-1]) == int(code[-1])


def encode_page_token(last_sku: str) -> str:
    return base64.urlsafe_b64encode(last_sku.encode()).decode()


def decode_page_token(token: str) -> str:
    if not token:
        return ""
    try:
        last_sku = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_sku = ""
    if not last_sku:
        raise InvalidRequest("page_token is not one this service gave out")
    return last_sku


class Store(Protocol):
    async def purchase_history(
        self, consumer_id: str, last_orders: int, top_products: int
    ) -> PurchaseHistory: ...

    async def product(self, *, sku: str, upc: str) -> Product | None: ...

    async def products(self, *, query: str, after_sku: str, limit: int) -> list[Product]: ...


async def purchase_history(
    *, store: Store, consumer_id: str, last_orders: int = 0, top_products: int = 0
) -> PurchaseHistory:
    """The last orders, newest first, and the products bought most often; empty for a consumer with none."""
    return await store.purchase_history(
        parse_consumer_id(consumer_id),
        bounded(last_orders, name="last_orders", default=DEFAULT_LAST_ORDERS, maximum=MAX_LAST_ORDERS),
        bounded(top_products, name="top_products", default=DEFAULT_TOP_PRODUCTS, maximum=MAX_TOP_PRODUCTS),
    )


async def find_product(*, store: Store, sku: str = "", upc: str = "") -> Product:
    """The product with this SKU or UPC (both, when both are given)."""
    sku, upc = sku.strip(), upc.strip()
    if not sku and not upc:
        raise InvalidRequest("give a sku or a upc")
    if upc and not upc.isdigit():
        raise InvalidRequest(f"upc must be digits only, not {upc[:20]!r}")
    product = await store.product(sku=sku, upc=upc)
    if product is None:
        what = " and ".join(f"{k} {v!r}" for k, v in (("SKU", sku), ("UPC", upc)) if v)
        raise ProductNotFound(f"no product with {what[:80]}")
    return product


async def list_products(
    *, store: Store, query: str = "", page_size: int = 0, page_token: str = ""
) -> tuple[list[Product], str]:
    """One page of products whose name contains, or whose SKU or UPC starts with, `query`; and the next token."""
    query = query.strip()
    if len(query) > MAX_QUERY:
        raise InvalidRequest(f"query is longer than {MAX_QUERY} characters")
    limit = bounded(page_size, name="page_size", default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    page = await store.products(query=query, after_sku=decode_page_token(page_token), limit=limit + 1)
    if len(page) > limit:
        return page[:limit], encode_page_token(page[limit - 1].sku)
    return page, ""
