from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment import catalogue
from services.fulfillment.catalogue import (
    InvalidRequest,
    Order,
    OrderLine,
    Product,
    ProductNotFound,
    Tally,
)

ALICE = "0f8fad5b-d9cb-469f-a165-70867728950e"
BOB = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)

OATS = Product("FD-OAT-500", "012345678905", "Rolled Oats", "foods", "500 g")
COLA = Product("BV-COLA-12", "036000291452", "Cola", "beverages", "12 x 330 ml")
SOAP = Product("PC-SOAP-3", "042100005264", "Bar Soap", "personal care", "3 x 100 g")


def order(n: int, *lines: tuple[Product, int], consumer=ALICE, days=0) -> Order:
    return Order(
        id=f"o{n}",
        consumer_id=consumer,
        placed_at=T0 + timedelta(days=days),
        channel="web",
        status="delivered",
        currency="USD",
        lines=[OrderLine(p, q, 299) for p, q in lines],
    )


def test_the_product_in_most_orders_ranks_first_even_with_fewer_units():
    tally = Tally()
    tally.add(order(1, (OATS, 1), (COLA, 10), days=0))
    tally.add(order(2, (OATS, 1), days=1))
    tally.add(order(3, (OATS, 1), days=2))
    top = tally.top(ALICE, 5)
    assert [(c.product.sku, c.orders, c.units) for c in top] == [("FD-OAT-500", 3, 3), ("BV-COLA-12", 1, 10)]
    assert top[0].last_bought_at == T0 + timedelta(days=2)


def test_ties_on_orders_go_to_more_units_then_to_the_most_recent():
    tally = Tally()
    tally.add(order(1, (OATS, 2), days=0))
    tally.add(order(2, (COLA, 2), days=5))
    tally.add(order(3, (SOAP, 3), days=1))
    assert [c.product.sku for c in tally.top(ALICE, 5)] == ["PC-SOAP-3", "BV-COLA-12", "FD-OAT-500"]


def test_a_product_on_two_lines_of_one_order_counts_as_one_order():
    tally = Tally()
    tally.add(order(1, (OATS, 2), (OATS, 3)))
    [count] = tally.top(ALICE, 5)
    assert (count.orders, count.units) == (1, 5)


def test_each_consumer_has_their_own_tally_and_the_limit_applies():
    tally = Tally()
    tally.add(order(1, (OATS, 1), (COLA, 1), (SOAP, 1)))
    tally.add(order(2, (SOAP, 1), consumer=BOB))
    assert len(tally.top(ALICE, 2)) == 2
    assert [c.product.sku for c in tally.top(BOB, 5)] == ["PC-SOAP-3"]


def test_an_order_total_is_the_sum_of_its_lines():
    assert order(1, (OATS, 2), (COLA, 1)).total_minor == 3 * 299


@pytest.mark.parametrize("code", ["036000291452", "012345678905", "4006381333931", "96385074"])
def test_real_upc_and_ean_codes_pass_the_check_digit(code):
    assert catalogue.is_valid_upc(code)


@pytest.mark.parametrize("code", ["036000291453", "12345", "03600029145X", ""])
def test_wrong_check_digits_and_lengths_fail(code):
    assert not catalogue.is_valid_upc(code)


def test_page_tokens_round_trip_and_foreign_ones_are_refused():
    assert catalogue.decode_page_token(catalogue.encode_page_token("BV-COLA-12")) == "BV-COLA-12"
    with pytest.raises(InvalidRequest, match="page_token"):
        catalogue.decode_page_token("%%%not-base64")


def test_counts_default_and_are_capped_but_negative_is_refused():
    assert catalogue.bounded(0, name="n", default=5, maximum=50) == 5
    assert catalogue.bounded(500, name="n", default=5, maximum=50) == 50
    with pytest.raises(InvalidRequest, match="n must not be negative"):
        catalogue.bounded(-1, name="n", default=5, maximum=50)


class FakeCatalogue:
    def __init__(self, products):
        self.by_sku = {p.sku: p for p in products}

    async def product(self, *, sku, upc):
        return next(
            (p for p in self.by_sku.values() if (not sku or p.sku == sku) and (not upc or p.upc == upc)), None
        )

    async def products(self, *, query, after_sku, limit):
        found = [
            p
            for sku, p in sorted(self.by_sku.items())
            if sku > after_sku and (query.lower() in p.name.lower() or p.sku.startswith(query))
        ]
        return found[:limit]

    async def purchase_history(self, consumer_id, last_orders, top_products):
        raise AssertionError("not used here")


async def test_pages_walk_the_whole_catalogue_once():
    products = [Product(f"SKU-{i:03}", "", f"Product {i}") for i in range(7)]
    store = FakeCatalogue(products)
    seen, token = [], ""
    while True:
        page, token = await catalogue.list_products(store=store, page_size=3, page_token=token)
        seen += [p.sku for p in page]
        if not token:
            break
    assert seen == sorted(p.sku for p in products)


async def test_a_product_is_found_by_sku_or_upc_and_a_missing_one_is_not_found():
    store = FakeCatalogue([OATS, COLA])
    assert await catalogue.find_product(store=store, upc=COLA.upc) == COLA
    assert await catalogue.find_product(store=store, sku=OATS.sku) == OATS
    with pytest.raises(ProductNotFound, match="NOPE"):
        await catalogue.find_product(store=store, sku="NOPE")
    with pytest.raises(InvalidRequest, match="sku or a upc"):
        await catalogue.find_product(store=store)
    with pytest.raises(InvalidRequest, match="digits"):
        await catalogue.find_product(store=store, upc="12ab")


async def test_purchase_history_refuses_a_consumer_id_that_is_not_a_uuid():
    with pytest.raises(InvalidRequest, match="UUID"):
        await catalogue.purchase_history(store=FakeCatalogue([]), consumer_id="42")
