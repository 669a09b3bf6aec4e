"""Reply fulfillment in the console: fulfil from a case, the supervisors' approval queue, a product's stock
by location with its reorder points, the supply planners' restock prompts, and letters (a proof before sending, the printed one after).

Each route is a call to fulfillment's gRPC API with the signed-in person's principal; fulfillment decides
whether a request is within the person's limits (approved at once) or waits for a supervisor.

The case page shows a case's fulfillments by asking fulfillment for them (ListFulfillments by case, then
each one's steps): see docs/fulfillment.md, "The case page". Whether the case awaits fulfillment is the
case's own status, which casework keeps from fulfillment's events (docs/casework.md).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation

from aiohttp import web
from crs.common.v1 import money_pb2
from crs.contacts.v1 import casework_pb2 as casework_pb
from crs.contacts.v1 import contacts_pb2 as contacts_pb
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()

MAX_VALUE_MINOR = 10**9
CASE_LIST_LIMIT = 100


async def _fulfillment(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.fulfillment, rpc), message, principal(request))


def _text(body: dict, name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name}: text")
    return value.strip()[:limit]


def money_minor(raw) -> int:
    """ "25", "25.5" or "25.50" -> 2550: an amount in the currency's hundredths, never a float."""
    if raw in (None, ""):
        return 0
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise BadRequest("value: an amount such as 25.00")
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadRequest("value: an amount such as 25.00") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise BadRequest("value: a positive amount with at most two decimals")
    minor = int(amount * 100)
    if minor > MAX_VALUE_MINOR:
        raise BadRequest("value: too large")
    return minor


def _quantity(body: dict) -> int:
    raw = body.get("quantity", 0)
    if raw in ("", None):
        return 0
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest("quantity: a whole number") from None
    if isinstance(raw, bool) or not 0 <= value <= 100:
        raise BadRequest("quantity: from 1 to 100")
    return value


def request_from(case_id: str, body: dict) -> pb.RequestFulfillmentRequest:
    minor = money_minor(body.get("value"))
    message = pb.RequestFulfillmentRequest(
        case_id=case_id,
        kind=_text(body, "kind", 32),
        sku=_text(body, "sku", 64),
        quantity=_quantity(body),
        template=_text(body, "template", 100),
        idempotency_key=_text(body, "idempotency_key", 200),
        delivery=_text(body, "delivery", 16),
    )
    if minor:
        message.value.CopyFrom(
            money_pb2.Money(currency=_text(body, "currency", 3).upper() or "USD", amount_minor=minor)
        )
    return message


# -- the JSON API --


@routes.get("/api/contacts/{id}/fulfillments")
@requires("fulfillment.request")
async def case_fulfillments(request: web.Request) -> web.Response:
    """GET -> {"fulfillments": [FulfillmentRequest with history], oldest first, and the case's stored
    "status", "stage", "escalated" and "awaiting_fulfillment"}: what the page polls to follow both."""
    ctx = context(request)
    case_id = request.match_info["id"]
    case, listed = await asyncio.gather(
        ctx.clients.call(
            ctx.clients.casework.GetCase, casework_pb.GetCaseRequest(id=case_id), principal(request)
        ),
        _fulfillment(
            request, "ListFulfillments", pb.ListFulfillmentsRequest(case_id=case_id, limit=CASE_LIST_LIMIT)
        ),
    )
    # The list carries no steps; a case has a handful of fulfillments, fetched side by side.
    full = await asyncio.gather(
        *(
            _fulfillment(request, "GetFulfillment", pb.GetFulfillmentRequest(id=f.id))
            for f in listed.fulfillments
        )
    )
    return web.json_response(
        {
            "fulfillments": [as_json(f) for f in full],
            "status": case.status,
            "stage": case.stage,
            "escalated": case.escalated,
            "awaiting_fulfillment": case.stage == "awaiting_fulfillment",
        }
    )


@routes.post("/api/contacts/{id}/fulfillments")
@requires("fulfillment.request")
@shapes(reply=pb.FulfillmentRequest.DESCRIPTOR)
async def fulfil(request: web.Request) -> web.Response:
    """POST {"kind", "value" ("25.00"), "currency", "sku", "quantity", "template", "delivery" (a letter:
    "post" or "email"), "idempotency_key"} -> 201 the FulfillmentRequest: approved at once within the
    requester's limits, else awaiting approval; 400 for a letter by email to a consumer without an address,
    or from a template that is unknown or retired."""
    message = request_from(request.match_info["id"], await json_body(request))
    created = await _fulfillment(request, "RequestFulfillment", message)
    return web.json_response(
        as_json(created), status=201, headers={"Location": f"/api/fulfillments/{created.id}"}
    )


@routes.get("/api/fulfillments/{fid}")
@requires("fulfillment.request")
@shapes(reply=pb.FulfillmentRequest.DESCRIPTOR)
async def get_fulfillment(request: web.Request) -> web.Response:
    """GET -> the FulfillmentRequest with its history."""
    found = await _fulfillment(
        request, "GetFulfillment", pb.GetFulfillmentRequest(id=request.match_info["fid"])
    )
    return web.json_response(as_json(found))


@routes.get("/api/approvals")
@requires("fulfillment.approve")
@shapes(reply=pb.ListFulfillmentsResponse.DESCRIPTOR)
async def approvals(request: web.Request) -> web.Response:
    """GET -> {"fulfillments": [FulfillmentRequest]}: what waits for a supervisor, oldest first."""
    listed = await _fulfillment(
        request, "ListFulfillments", pb.ListFulfillmentsRequest(state="awaiting_approval", limit=200)
    )
    return web.json_response(as_json(listed))


async def _decide(request: web.Request, rpc: str) -> web.Response:
    body = await json_body(request)
    message = pb.DecideFulfillmentRequest(id=request.match_info["fid"], reason=_text(body, "reason", 2000))
    return web.json_response(as_json(await _fulfillment(request, rpc, message)))


@routes.post("/api/fulfillments/{fid}/approve")
@requires("fulfillment.approve")
@shapes(reply=pb.FulfillmentRequest.DESCRIPTOR)
async def approve(request: web.Request) -> web.Response:
    """POST {"reason"?} -> the FulfillmentRequest, approved."""
    return await _decide(request, "ApproveFulfillment")


@routes.post("/api/fulfillments/{fid}/refuse")
@requires("fulfillment.approve")
@shapes(reply=pb.FulfillmentRequest.DESCRIPTOR)
async def refuse(request: web.Request) -> web.Response:
    """POST {"reason"} (required) -> the FulfillmentRequest, cancelled with the reason."""
    return await _decide(request, "RefuseFulfillment")


@routes.get("/api/products/{sku}/stock")
@requires("inventory.read")
async def stock(request: web.Request) -> web.Response:
    """GET -> {"sku", "available", "levels": [StockLevel], "restock": [StockLevel]}: by location, and the
    locations whose available stock is below their reorder point."""
    found = as_json(
        await _fulfillment(request, "GetStock", pb.GetStockRequest(sku=request.match_info["sku"][:64]))
    )
    found["restock"] = [level for level in found["levels"] if level["below_reorder_point"]]
    return web.json_response(found)


@routes.get("/api/products/{sku}/where-to-buy")
@requires("inventory.read")
@shapes(reply=pb.WhereToBuyResponse.DESCRIPTOR)
async def where_to_buy(request: web.Request) -> web.Response:
    """GET ?postcode=&country=&limit= -> {"stores": [StoreNearby]}: the nearest stores with it in stock."""
    q = request.query
    try:
        limit = int(q.get("limit") or 0)
    except ValueError:
        raise BadRequest("limit: a whole number") from None
    if not 0 <= limit <= 50:
        raise BadRequest("limit: from 1 to 50")
    message = pb.WhereToBuyRequest(
        sku=request.match_info["sku"][:64],
        postcode=q.get("postcode", "")[:20],
        country=q.get("country", "")[:2],
        limit=limit,
    )
    return web.json_response(as_json(await _fulfillment(request, "WhereToBuy", message)))


@routes.get("/api/restock-prompts")
@requires("restock.read")
@shapes(reply=pb.ListRestockPromptsResponse.DESCRIPTOR)
async def restock_prompts(request: web.Request) -> web.Response:
    """GET ?sku=&region= -> {"prompts": [RestockPrompt]}: the open prompts, the shortest cover first."""
    message = pb.ListRestockPromptsRequest(
        sku=request.query.get("sku", "")[:64], region=request.query.get("region", "")[:100]
    )
    return web.json_response(as_json(await _fulfillment(request, "ListRestockPrompts", message)))


@routes.get("/api/restock-policy")
@requires("restock.read")
@shapes(reply=pb.RestockPolicy.DESCRIPTOR)
async def restock_policy(request: web.Request) -> web.Response:
    """GET -> the RestockPolicy: the thresholds prompts are raised at."""
    return web.json_response(
        as_json(await _fulfillment(request, "GetRestockPolicy", pb.GetRestockPolicyRequest()))
    )


def _number(body: dict, name: str, kind: type) -> float | int:
    raw = body.get(name, 0)
    if raw in ("", None):
        return 0
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{name}: a number") from None
    if isinstance(raw, bool) or value < 0 or value != value or value > 10**6:
        raise BadRequest(f"{name}: a positive number")
    return value


@routes.put("/api/restock-policy")
@requires("restock.manage")
@shapes(reply=pb.RestockPolicy.DESCRIPTOR)
async def set_restock_policy(request: web.Request) -> web.Response:
    """PUT {"cover_days", "window_days", "baseline_windows", "miss_factor", "min_misses"} (each optional:
    one left out keeps its value) -> the RestockPolicy."""
    body = await json_body(request)
    message = pb.RestockPolicy(
        cover_days=_number(body, "cover_days", float),
        window_days=_number(body, "window_days", int),
        baseline_windows=_number(body, "baseline_windows", int),
        miss_factor=_number(body, "miss_factor", float),
        min_misses=_number(body, "min_misses", int),
    )
    return web.json_response(as_json(await _fulfillment(request, "SetRestockPolicy", message)))


def _pdf(letter: pb.Letter, name: str) -> web.Response:
    return web.Response(
        body=letter.pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"', "Cache-Control": "no-store"},
    )


@routes.get("/api/contacts/{id}/letter-preview")
@requires("fulfillment.request")
@audited("letter.preview", "id")
async def letter_preview(request: web.Request) -> web.Response:
    """GET ?template= -> the PDF a letter request for this case would print, before it is sent."""
    template = request.query.get("template", "")[:100]
    message = pb.PreviewLetterRequest(case_id=request.match_info["id"], template=template)
    return _pdf(await _fulfillment(request, "PreviewLetter", message), f"preview-{template or 'letter'}")


@routes.get("/api/contacts/{id}/letter-deliveries")
@requires("fulfillment.request")
@audited("letter.deliveries", "id")
async def letter_deliveries(request: web.Request) -> web.Response:
    """GET -> {"deliveries": ["post"] or ["post", "email"], "email_address"}: how a letter for this case
    can go; by email only to the consumer's first address on file, the one fulfillment would use."""
    ctx = context(request)
    who = principal(request)
    case = await ctx.clients.call(
        ctx.clients.casework.GetCase, casework_pb.GetCaseRequest(id=request.match_info["id"]), who
    )
    address = ""
    if case.consumer_id:
        consumer = await ctx.clients.call(
            ctx.clients.contacts.GetConsumer, contacts_pb.GetConsumerRequest(id=case.consumer_id), who
        )
        address = next((e.address for e in consumer.emails if e.address), "")
    deliveries = ["post", "email"] if address else ["post"]
    return web.json_response({"deliveries": deliveries, "email_address": address})


@routes.get("/api/fulfillments/{fid}/letter")
@requires("fulfillment.request")
@audited("letter.read", "fid")
async def letter(request: web.Request) -> web.Response:
    """GET -> the printed letter's PDF."""
    fid = request.match_info["fid"]
    return _pdf(await _fulfillment(request, "GetLetter", pb.GetLetterRequest(fulfillment_id=fid)), "letter")


# -- the pages: each a template the fulfillment script fills from the API above --


@routes.get("/fulfillment/approvals")
@requires("fulfillment.approve")
async def approvals_page(request: web.Request) -> web.Response:
    return render(request, "fulfillment/approvals.html")


@routes.get("/products/stock")
@requires("inventory.read")
async def stock_page(request: web.Request) -> web.Response:
    return render(request, "fulfillment/stock.html")


@routes.get("/products/restock")
@requires("restock.read")
async def restock_page(request: web.Request) -> web.Response:
    return render(request, "fulfillment/restock.html")
