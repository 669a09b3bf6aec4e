"""Supply planners' and admins' settings of fulfillment: cover thresholds per product and region, in
place of the restock policy's default, and approval limits per role and agent. Each change is audited by
fulfillment (who, when, before and after) and shown with the settings. Thin routes: fulfillment validates
and decides."""

from __future__ import annotations

from aiohttp import web
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.routes.fulfillment import _fulfillment, _text
from services.console.web import BadRequest, json_body, render

routes = web.RouteTableDef()


def _threshold(body: dict, *, with_days: bool) -> pb.CoverThreshold:
    threshold = pb.CoverThreshold(
        sku=_text(body, "sku", 64),
        country=_text(body, "country", 2).upper(),
        region=_text(body, "region", 100),
    )
    if with_days:
        raw = body.get("cover_days")
        try:
            threshold.cover_days = float(raw)
        except (TypeError, ValueError):
            raise BadRequest("cover_days: a number of days") from None
        if isinstance(raw, bool):
            raise BadRequest("cover_days: a number of days")
    return threshold


@routes.put("/api/restock-thresholds")
@requires("restock.manage")
@shapes(reply=pb.RestockPolicy.DESCRIPTOR)
async def set_cover_threshold(request: web.Request) -> web.Response:
    """PUT {"sku", "country", "region", "cover_days"} (sku, or country and region, or all) -> the
    RestockPolicy with its thresholds and latest changes; the prompts are re-evaluated at once."""
    message = _threshold(await json_body(request), with_days=True)
    return web.json_response(as_json(await _fulfillment(request, "SetCoverThreshold", message)))


@routes.delete("/api/restock-thresholds")
@requires("restock.manage")
@shapes(reply=pb.RestockPolicy.DESCRIPTOR)
async def remove_cover_threshold(request: web.Request) -> web.Response:
    """DELETE ?sku=&country=&region= -> the RestockPolicy: the next threshold down applies again."""
    message = _threshold(dict(request.query), with_days=False)
    return web.json_response(as_json(await _fulfillment(request, "RemoveCoverThreshold", message)))


@routes.get("/admin/limits")
@requires("limits.read")
async def limits_page(request: web.Request) -> web.Response:
    return render(request, "fulfillment/limits.html")


@routes.get("/api/approval-limits")
@requires("limits.read")
@shapes(reply=pb.ApprovalLimits.DESCRIPTOR)
async def approval_limits(request: web.Request) -> web.Response:
    """GET -> {"limits": [ApprovalLimit], "changes": [ApprovalLimitChange]}: agents' own, then roles'."""
    return web.json_response(
        as_json(await _fulfillment(request, "ListApprovalLimits", pb.ListApprovalLimitsRequest()))
    )


def _whole(body: dict, name: str) -> int:
    raw = body.get(name)
    if isinstance(raw, bool):
        raise BadRequest(f"{name}: a whole number")
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise BadRequest(f"{name}: a whole number") from None


def _limit_key(body: dict) -> pb.ApprovalLimit:
    return pb.ApprovalLimit(
        scope=_text(body, "scope", 10),
        name=_text(body, "name", 64),
        currency=_text(body, "currency", 3).upper(),
    )


@routes.put("/api/approval-limits")
@requires("limits.manage")
@shapes(reply=pb.ApprovalLimits.DESCRIPTOR)
async def set_approval_limit(request: web.Request) -> web.Response:
    """PUT {"scope": "role"|"agent", "name", "currency", "max_value_minor", "max_period_minor",
    "period_days"} -> ApprovalLimits: the limit added or changed, in force for the next request."""
    body = await json_body(request)
    message = _limit_key(body)
    message.max_value_minor = _whole(body, "max_value_minor")
    message.max_period_minor = _whole(body, "max_period_minor")
    message.period_days = _whole(body, "period_days")
    return web.json_response(as_json(await _fulfillment(request, "SetApprovalLimit", message)))


@routes.delete("/api/approval-limits")
@requires("limits.manage")
@shapes(reply=pb.ApprovalLimits.DESCRIPTOR)
async def remove_approval_limit(request: web.Request) -> web.Response:
    """DELETE ?scope=&name=&currency= -> ApprovalLimits: an agent's own removed, their role's applies."""
    message = _limit_key(dict(request.query))
    return web.json_response(as_json(await _fulfillment(request, "RemoveApprovalLimit", message)))


@routes.put("/api/products/{sku}/reorder-points/{location}")
@requires("restock.manage")
@shapes(reply=pb.ProductStock.DESCRIPTOR)
async def set_reorder_point(request: web.Request) -> web.Response:
    """PUT {"reorder_point"} -> the ProductStock: restock there when available falls below it (0: none)."""
    body = await json_body(request)
    message = pb.SetReorderPointRequest(
        sku=request.match_info["sku"][:64],
        location_id=request.match_info["location"][:64],
        reorder_point=_bounded(body, "reorder_point"),
    )
    return web.json_response(as_json(await _fulfillment(request, "SetReorderPoint", message)))


def _bounded(body: dict, name: str) -> int:
    value = _whole(body, name)
    if not 0 <= value <= 2**31 - 1:
        raise BadRequest(f"{name}: from 0")
    return value


COUPON_FIELDS = ("max_per_consumer", "max_per_household", "period_days", "valid_days")


@routes.get("/api/coupon-policy")
@requires("limits.read")
@shapes(reply=pb.CouponPolicy.DESCRIPTOR)
async def coupon_policy(request: web.Request) -> web.Response:
    """GET -> the CouponPolicy: the coupon fraud limits, with their latest changes."""
    return web.json_response(
        as_json(await _fulfillment(request, "GetCouponPolicy", pb.GetCouponPolicyRequest()))
    )


@routes.put("/api/coupon-policy")
@requires("limits.manage")
@shapes(reply=pb.CouponPolicy.DESCRIPTOR)
async def set_coupon_policy(request: web.Request) -> web.Response:
    """PUT {"max_per_consumer", "max_per_household", "period_days", "valid_days"} -> the CouponPolicy."""
    body = await json_body(request)
    message = pb.CouponPolicy(**{name: _bounded(body, name) for name in COUPON_FIELDS})
    return web.json_response(as_json(await _fulfillment(request, "SetCouponPolicy", message)))
