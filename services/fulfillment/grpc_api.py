"""The Fulfillment gRPC service (read side): protobuf in, catalogue rules, protobuf out. No SQL here."""

from __future__ import annotations

import grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc

from services.fulfillment import catalogue, convert
from services.fulfillment.catalogue import InvalidRequest, ProductNotFound, Store
from services.fulfillment.letter_templates_api import LetterTemplatesApi
from services.fulfillment.letter_templates_store import LetterTemplateStore
from services.fulfillment.limits_api import LimitsApi
from services.fulfillment.limits_store import LimitsStore
from services.fulfillment.orders_import_api import OrdersImportApi
from services.fulfillment.orders_import_store import OrdersImportStore
from services.fulfillment.reply_api import ReplyApi
from services.fulfillment.reply_store import SqlStore as ReplyStore
from services.fulfillment.requesting import Directory
from services.fulfillment.restock_api import RestockApi
from services.fulfillment.restock_store import SqlStore as RestockStore
from services.fulfillment.restock_thresholds_store import ThresholdStore
from services.fulfillment.standard_paragraphs_api import StandardParagraphsApi
from services.fulfillment.standard_paragraphs_store import StandardParagraphStore
from services.runtime.grpcio import Servicer

SERVICE_NAME = fulfillment_pb2.DESCRIPTOR.services_by_name["Fulfillment"].full_name


class FulfillmentApi(
    ReplyApi,
    RestockApi,
    OrdersImportApi,
    LimitsApi,
    LetterTemplatesApi,
    StandardParagraphsApi,
    fulfillment_pb2_grpc.FulfillmentServicer,
):
    def __init__(
        self, store: Store, replies_store: ReplyStore, directory: Directory, restock_store: RestockStore
    ):
        self.store = store
        self.replies_store = replies_store
        self.directory = directory
        self.restock_store = restock_store
        self.thresholds_store = ThresholdStore(restock_store.pool)
        self.orders_import_store = OrdersImportStore(restock_store.pool)
        self.limits_store = LimitsStore(restock_store.pool)
        self.letter_templates_store = LetterTemplateStore(restock_store.pool)
        self.standard_paragraphs_store = StandardParagraphStore(restock_store.pool)

    async def GetPurchaseHistory(self, request, context):
        try:
            history = await catalogue.purchase_history(
                store=self.store,
                consumer_id=request.consumer_id,
                last_orders=request.last_orders,
                top_products=request.top_products,
            )
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return convert.history_to_pb(history)

    async def GetProduct(self, request, context):
        try:
            product = await catalogue.find_product(store=self.store, sku=request.sku, upc=request.upc)
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except ProductNotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        return convert.product_to_pb(product)

    async def ListProducts(self, request, context):
        try:
            products, next_token = await catalogue.list_products(
                store=self.store,
                query=request.query,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return fulfillment_pb2.ListProductsResponse(
            products=[convert.product_to_pb(p) for p in products], next_page_token=next_token
        )


def servicer(
    store: Store, replies_store: ReplyStore, directory: Directory, restock_store: RestockStore
) -> Servicer:
    """The Fulfillment servicer, ready for `services.runtime.grpcio.Server`."""
    return Servicer(
        FulfillmentApi(store, replies_store, directory, restock_store),
        fulfillment_pb2_grpc.add_FulfillmentServicer_to_server,
        SERVICE_NAME,
    )
