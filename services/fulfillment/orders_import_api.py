"""The order-import half of the Fulfillment gRPC service: a CSV of sales in, what was added and the rows
rejected (by line, with why) out. Protobuf in, orders_import rules, protobuf out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.fulfillment import orders_import
from services.fulfillment.orders_import_store import OrdersImportStore
from services.fulfillment.replies import InvalidRequest, NotAllowed
from services.fulfillment.reply_api import _principal, _status

log = logging.getLogger(__name__)
IMPORTERS = ("admin", "service")


class OrdersImportApi:
    """Mixed into the Fulfillment servicer."""

    orders_import_store: OrdersImportStore

    @_status
    async def ImportOrders(self, request, context):
        principal = _principal(context)
        if principal.role not in IMPORTERS:
            raise NotAllowed("only an admin or an integration imports orders")
        try:
            parsed = orders_import.parse(request.csv, datetime.now(UTC))
        except orders_import.BadFile as exc:
            raise InvalidRequest(str(exc)) from None
        skus = {line.sku for order in parsed.orders for line in order.lines}
        locations = {order.location_id for order in parsed.orders if order.location_id}
        known_skus, known_locations = await self.orders_import_store.known(skus, locations)
        checked = orders_import.reject_unknown(parsed, known_skus, known_locations)
        written = await self.orders_import_store.add(checked.orders)
        log.info(
            "orders imported by %s: %d added, %d already there, %d rows rejected",
            principal.username,
            written.orders_added,
            written.orders_already_imported,
            len(checked.rejected),
        )
        return pb.ImportOrdersResponse(
            orders_added=written.orders_added,
            orders_already_imported=written.orders_already_imported,
            lines_added=written.lines_added,
            units_taken_from_stock=written.units_taken_from_stock,
            rejected=[pb.RejectedRow(line=r.line, reason=r.reason) for r in checked.rejected],
        )
