"""Supply planners' and admins' settings of fulfillment: cover thresholds per product and region, in
place of the restock policy's default. Each change is audited by fulfillment (who, when, before and
after) and shown with the policy. Thin routes: fulfillment validates and decides."""

from __future__ import annotations

from aiohttp import web
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.routes.fulfillment import _fulfillment, _text
from services.console.web import BadRequest, json_body

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
