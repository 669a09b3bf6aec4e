"""The Fulfillment gRPC API over a real channel, against the real database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc

from services.fulfillment import store
from services.fulfillment.__main__ import serve
from services.fulfillment.catalogue import Order, OrderLine, Product
from services.runtime.db import connect
from services.runtime.grpcio import channel

TAG = uuid.uuid4().hex[:6].upper()
OATS = Product(f"T{TAG}-OAT", "", "Rolled Oats Test", "foods", "500 g")
COLA = Product(f"T{TAG}-COLA", "", "Cola Test", "beverages", "12 x 330 ml")
SOAP = Product(f"T{TAG}-SOAP", "", "Bar Soap 'Test'; DROP TABLE product; --", "personal care", "3 x 100 g")
MILK = Product(f"T{TAG}-MILK", "", "Whole Milk 3.5% Test", "foods", "1 l")
T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module")
async def fulfillment(database_url):
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(stop, database_url=database_url, bind="127.0.0.1:0", on_ready=ready.set_result)
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 20)
    chan = channel(f"127.0.0.1:{port}")
    yield fulfillment_pb2_grpc.FulfillmentStub(chan)
    await chan.close()
    stop.set()
    await task


@pytest.fixture(scope="module")
def buyer(database_url) -> str:
    """A consumer with six orders: oats in four, cola in two (many units), soap once, most recently."""
    consumer = str(uuid.uuid4())
    plan = [
        [(OATS, 1), (COLA, 6)],
        [(OATS, 2)],
        [(COLA, 6)],
        [(OATS, 1)],
        [(OATS, 1), (OATS, 1)],
        [(SOAP, 1)],
    ]
    with connect(database_url, schema="fulfillment") as conn:
        store.upsert_products(conn, [OATS, COLA, SOAP, MILK])
        for day, lines in enumerate(plan):
            order = Order(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{consumer}/{day}")),
                consumer_id=consumer,
                placed_at=T0 + timedelta(days=day),
                channel="web" if day % 2 else "phone",
                status="delivered",
                currency="USD",
                lines=[OrderLine(p, q, 250 + day) for p, q in lines],
            )
            assert store.record_order(conn, order)
            # Writing the same order again changes nothing: the tally counts it once.
            assert not store.record_order(conn, order)
        conn.commit()
    return consumer


async def test_history_has_the_last_orders_newest_first_with_lines_and_totals(fulfillment, buyer):
    history = await fulfillment.GetPurchaseHistory(
        fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=buyer, last_orders=3)
    )
    assert len(history.orders) == 3
    placed = [o.placed_at.ToDatetime(tzinfo=UTC) for o in history.orders]
    assert placed == [T0 + timedelta(days=d) for d in (5, 4, 3)]
    newest = history.orders[0]
    assert [(line.product.sku, line.product.name, line.quantity) for line in newest.lines] == [
        (SOAP.sku, SOAP.name, 1)
    ]
    assert (newest.total.currency, newest.total.amount_minor) == ("USD", 255)
    assert [len(o.lines) for o in history.orders] == [1, 2, 1]


async def test_top_products_rank_by_orders_with_units_and_last_bought(fulfillment, buyer):
    history = await fulfillment.GetPurchaseHistory(
        fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=buyer, top_products=2)
    )
    top = [(c.product.sku, c.orders, c.units) for c in history.top_products]
    assert top == [(OATS.sku, 4, 6), (COLA.sku, 2, 12)]
    assert history.top_products[0].last_bought_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=4)
    assert len(history.orders) == 5  # the default


async def test_a_consumer_with_no_orders_has_an_empty_history(fulfillment):
    history = await fulfillment.GetPurchaseHistory(
        fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=str(uuid.uuid4()))
    )
    assert list(history.orders) == [] and list(history.top_products) == []


@pytest.mark.parametrize(
    "request_fields",
    [{"consumer_id": "not-a-uuid"}, {"consumer_id": str(uuid.uuid4()), "last_orders": -1}],
)
async def test_bad_history_requests_are_invalid_arguments(fulfillment, request_fields):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await fulfillment.GetPurchaseHistory(fulfillment_pb2.GetPurchaseHistoryRequest(**request_fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_products_are_found_by_sku_and_upc_or_not_found(fulfillment, database_url):
    cereal = Product(f"T{TAG}-CER", "012345678905", "Corn Flakes Test", "foods", "375 g")
    with connect(database_url, schema="fulfillment") as conn:
        store.upsert_products(conn, [cereal])
        conn.commit()
    by_upc = await fulfillment.GetProduct(fulfillment_pb2.GetProductRequest(upc=cereal.upc))
    assert (by_upc.sku, by_upc.name, by_upc.size) == (cereal.sku, cereal.name, cereal.size)
    by_sku = await fulfillment.GetProduct(fulfillment_pb2.GetProductRequest(sku=cereal.sku))
    assert by_sku.upc == cereal.upc
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await fulfillment.GetProduct(fulfillment_pb2.GetProductRequest(sku="NO-SUCH-SKU"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await fulfillment.GetProduct(fulfillment_pb2.GetProductRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_products_searches_names_and_skus_and_pages(fulfillment, buyer):
    found = await fulfillment.ListProducts(fulfillment_pb2.ListProductsRequest(query="cola test"))
    assert [p.sku for p in found.products] == [COLA.sku]
    by_prefix = await fulfillment.ListProducts(fulfillment_pb2.ListProductsRequest(query=f"t{TAG}-".lower()))
    assert {p.sku for p in by_prefix.products} >= {OATS.sku, COLA.sku, SOAP.sku}
    sql_looking = await fulfillment.ListProducts(fulfillment_pb2.ListProductsRequest(query="'; DROP TABLE"))
    assert [p.name for p in sql_looking.products] == [SOAP.name]
    # "%" is a character to find, not a wildcard: only products with a literal "%" come back (the demo
    # range has "Dark Chocolate 70%" when another test has seeded it), never the whole catalogue.
    literal = await fulfillment.ListProducts(fulfillment_pb2.ListProductsRequest(query="%"))
    assert MILK.sku in {p.sku for p in literal.products}
    assert all("%" in f"{p.name}{p.sku}{p.upc}" for p in literal.products)
    assert not {OATS.sku, COLA.sku, SOAP.sku} & {p.sku for p in literal.products}

    seen, token = [], ""
    while True:
        page = await fulfillment.ListProducts(
            fulfillment_pb2.ListProductsRequest(query=f"T{TAG}", page_size=2, page_token=token)
        )
        seen += [p.sku for p in page.products]
        token = page.next_page_token
        if not token:
            break
    assert (
        seen == sorted(seen) and len(seen) == len(set(seen)) and set(seen) >= {OATS.sku, COLA.sku, SOAP.sku}
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await fulfillment.ListProducts(fulfillment_pb2.ListProductsRequest(page_token="!!"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
