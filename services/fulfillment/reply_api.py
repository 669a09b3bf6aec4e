"""The reply-fulfillment half of the Fulfillment gRPC service: requests, approvals, coupons, stock.

Protobuf in, use cases, protobuf out; each domain error ends the call with its status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import grpc
import psycopg

from services.fulfillment import convert, replies, requesting, where_to_buy
from services.fulfillment.coupons import AlreadyRedeemed, Expired, MalformedCode
from services.fulfillment.directory import Unavailable
from services.fulfillment.replies import FraudLimit, InvalidRequest, NotAllowed, NotFound, WrongState
from services.fulfillment.reply_store import SqlStore
from services.runtime.grpcio import errors_to_status
from services.runtime.principal import Principal, from_metadata

MAX_LIST = 500
LOCATION_KINDS = ("distribution_centre", "warehouse", "store")

_status = errors_to_status(
    {
        InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
        MalformedCode: grpc.StatusCode.INVALID_ARGUMENT,
        NotFound: grpc.StatusCode.NOT_FOUND,
        NotAllowed: grpc.StatusCode.PERMISSION_DENIED,
        WrongState: grpc.StatusCode.FAILED_PRECONDITION,
        FraudLimit: grpc.StatusCode.RESOURCE_EXHAUSTED,
        AlreadyRedeemed: grpc.StatusCode.FAILED_PRECONDITION,
        Expired: grpc.StatusCode.FAILED_PRECONDITION,
        Unavailable: grpc.StatusCode.UNAVAILABLE,
    }
)


def _principal(context) -> Principal:
    principal = from_metadata(context.invocation_metadata())
    if principal is None:
        raise NotAllowed("the call carries no principal: who is asking?")
    return principal


class ReplyApi:
    """Mixed into the Fulfillment servicer."""

    replies_store: SqlStore
    directory: requesting.Directory
    # From RestockApi, mixed in beside it: a lookup that found no stocked store near is a miss.
    count_where_to_buy: Callable[[where_to_buy.Answer], Awaitable[None]]

    @_status
    async def RequestFulfillment(self, request, context):
        new = replies.validate(
            case_id=request.case_id,
            kind=request.kind,
            value_minor=request.value.amount_minor,
            currency=request.value.currency,
            sku=request.sku,
            quantity=request.quantity,
            template=request.template,
            idempotency_key=request.idempotency_key,
            delivery=request.delivery,
        )
        try:
            found = await requesting.request(
                store=self.replies_store, directory=self.directory, new=new, principal=_principal(context)
            )
        except psycopg.errors.ForeignKeyViolation:
            raise InvalidRequest(f"no product with SKU {new.sku!r}") from None
        return convert.fulfillment_to_pb(found)

    @_status
    async def GetFulfillment(self, request, context):
        found = await requesting.get(store=self.replies_store, fulfillment_id=request.id)
        return convert.fulfillment_to_pb(found)

    @_status
    async def ListFulfillments(self, request, context):
        case_id = replies.parse_uuid(request.case_id, "case_id") if request.case_id else ""
        if request.state and request.state not in set(replies.State):
            raise InvalidRequest(f"no state {request.state[:40]!r}")
        found = await self.replies_store.list(
            case_id=case_id, state=request.state, limit=min(request.limit or 100, MAX_LIST)
        )
        return convert.fulfillment_pb2.ListFulfillmentsResponse(
            fulfillments=[convert.fulfillment_to_pb(f) for f in found]
        )

    async def _decide(self, request, context, *, approve: bool):
        await requesting.decide(
            store=self.replies_store,
            fulfillment_id=request.id,
            principal=_principal(context),
            approve=approve,
            reason=request.reason,
        )
        return convert.fulfillment_to_pb(
            await requesting.get(store=self.replies_store, fulfillment_id=request.id)
        )

    @_status
    async def ApproveFulfillment(self, request, context):
        return await self._decide(request, context, approve=True)

    @_status
    async def RefuseFulfillment(self, request, context):
        return await self._decide(request, context, approve=False)

    @_status
    async def CheckCoupon(self, request, context):
        coupon, status = await requesting.check_coupon(store=self.replies_store, code=request.code)
        return convert.coupon_to_pb(coupon, status)

    @_status
    async def RedeemCoupon(self, request, context):
        coupon = await requesting.redeem_coupon(
            store=self.replies_store, code=request.code, reference=request.redemption_reference
        )
        return convert.coupon_to_pb(coupon, "redeemed")

    @_status
    async def ImportStock(self, request, context):
        principal = _principal(context)
        if principal.role not in ("admin", "service"):
            raise NotAllowed("only an admin imports stock")
        for loc in request.locations:
            if not loc.id or loc.kind not in LOCATION_KINDS or len(loc.country) != 2:
                raise InvalidRequest(f"location {loc.id!r}: needs an id, a kind and a two-letter country")
        for row in request.rows:
            if row.on_hand < 0:
                raise InvalidRequest(f"{row.sku} at {row.location_id}: a count cannot be negative")
        try:
            adjusted = await self.replies_store.import_stock(
                [convert.location_from_pb(loc) for loc in request.locations],
                [(r.sku, r.location_id, r.on_hand) for r in request.rows],
            )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise InvalidRequest(f"unknown product or location: {exc.diag.message_detail}") from None
        except psycopg.errors.CheckViolation:
            raise InvalidRequest("a count is below what is reserved there; ship or release first") from None
        return convert.fulfillment_pb2.ImportStockResponse(
            locations=len(request.locations), rows=len(request.rows), adjusted=adjusted
        )

    @_status
    async def GetStock(self, request, context):
        if not request.sku:
            raise InvalidRequest("sku is required")
        return convert.stock_to_pb(request.sku, await self.replies_store.stock(request.sku))

    @_status
    async def UpdateShipment(self, request, context):
        principal = _principal(context)
        if principal.role not in ("admin", "service", "supervisor"):
            raise NotAllowed("carrier updates come from a carrier's integration or an admin")
        return convert.shipment_to_pb(
            await update_shipment(
                self.replies_store,
                carrier=request.carrier,
                tracking=request.tracking_number,
                status=request.status,
                at=request.occurred_at.ToDatetime(UTC) if request.HasField("occurred_at") else None,
            )
        )

    @_status
    async def GetLetter(self, request, context):
        found = await self.replies_store.letter(replies.parse_uuid(request.fulfillment_id, "fulfillment_id"))
        if found is None:
            raise NotFound("no letter has been printed for this fulfillment")
        fid, template, language, pdf, created_at = found
        return convert.fulfillment_pb2.Letter(
            fulfillment_id=fid,
            template=template,
            language=language,
            pdf=bytes(pdf),
            created_at=convert.timestamp(created_at),
        )

    @_status
    async def PreviewLetter(self, request, context):
        language, pdf = await requesting.preview_letter(
            store=self.replies_store,
            directory=self.directory,
            case_id=request.case_id,
            template=request.template,
        )
        return convert.fulfillment_pb2.Letter(template=request.template, language=language, pdf=pdf)

    @_status
    async def WhereToBuy(self, request, context):
        query = where_to_buy.validate(
            sku=request.sku, country=request.country, postcode=request.postcode, limit=request.limit
        )
        answer = await where_to_buy.find(self.replies_store, query)
        await self.count_where_to_buy(answer)
        return convert.where_to_buy_to_pb(answer)

    @_status
    async def ImportPostcodes(self, request, context):
        if _principal(context).role not in ("admin", "service"):
            raise NotAllowed("only an admin imports postcodes")
        places = where_to_buy.places_from_rows(
            [(p.country, p.postcode, p.latitude, p.longitude) for p in request.places]
        )
        count = await self.replies_store.import_postcodes(places)
        return convert.fulfillment_pb2.ImportPostcodesResponse(places=count)

    @_status
    async def RecordReturn(self, request, context):
        principal = _principal(context)
        if principal.role not in ("admin", "supervisor", "service"):
            raise NotAllowed("returns are recorded by quality assurance (a supervisor or an admin)")
        await requesting.record_return(
            store=self.replies_store,
            fulfillment_id=request.fulfillment_id,
            principal=principal,
            finding=request.finding,
        )
        found = await requesting.get(store=self.replies_store, fulfillment_id=request.fulfillment_id)
        return convert.fulfillment_to_pb(found)


async def update_shipment(store: SqlStore, *, carrier: str, tracking: str, status: str, at: datetime | None):
    """Apply one carrier status; delivered (or lost) moves the request on. Repeats change nothing."""
    outcome = replies.shipment_outcome(status)
    shipment = await store.shipment_by_tracking(carrier, tracking)
    if shipment is None:
        raise NotFound(f"no {carrier} shipment {tracking[:40]!r}")
    return await store.set_shipment_status(shipment, status, at or datetime.now(UTC), outcome)
