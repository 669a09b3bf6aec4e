"""Translation between catalogue values and the protobuf messages of crs.fulfillment.v1."""

from __future__ import annotations

from crs.common.v1 import money_pb2
from crs.fulfillment.v1 import fulfillment_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.fulfillment.catalogue import Order, Product, ProductCount, PurchaseHistory


def timestamp(when) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def product_to_pb(product: Product) -> fulfillment_pb2.Product:
    return fulfillment_pb2.Product(
        sku=product.sku, upc=product.upc, name=product.name, category=product.category, size=product.size
    )


def order_to_pb(order: Order) -> fulfillment_pb2.Order:
    return fulfillment_pb2.Order(
        id=order.id,
        consumer_id=order.consumer_id,
        placed_at=timestamp(order.placed_at),
        channel=order.channel,
        status=order.status,
        lines=[
            fulfillment_pb2.OrderLine(
                product=product_to_pb(line.product),
                quantity=line.quantity,
                unit_price=money_pb2.Money(currency=order.currency, amount_minor=line.unit_price_minor),
            )
            for line in order.lines
        ],
        total=money_pb2.Money(currency=order.currency, amount_minor=order.total_minor),
    )


def count_to_pb(count: ProductCount) -> fulfillment_pb2.ProductCount:
    return fulfillment_pb2.ProductCount(
        product=product_to_pb(count.product),
        orders=count.orders,
        units=count.units,
        last_bought_at=timestamp(count.last_bought_at),
    )


def history_to_pb(history: PurchaseHistory) -> fulfillment_pb2.PurchaseHistory:
    return fulfillment_pb2.PurchaseHistory(
        consumer_id=history.consumer_id,
        orders=[order_to_pb(o) for o in history.orders],
        top_products=[count_to_pb(c) for c in history.top_products],
    )
