"""Recall mode in the console: the alerts a recall is started from, the recalls (open and closed), the
form that opens one, a recall's page with its live tally, closing it, and the JSON the capture form asks
for the script of a product the consumer names.

Each route is a call to insights (which owns recalls) or, for the notices sent, to outreach (which sends
them). Outreach down, late or refusing leaves the page up with "notices: not available".
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import grpc
from aiohttp import web
from crs.contacts.v1 import casework_pb2 as cpb
from crs.insights.v1 import insights_pb2 as pb
from crs.outreach.v1 import campaigns_pb2 as opb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import allowed, requires
from services.console.web import BadRequest, context, error_text, principal, render

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# Lot codes and regions are typed as a list: commas, spaces or lines between them.
_LIST = re.compile(r"[\s,;]+")
MAX_FORM_TEXT = 20_000
MAX_MENTION = 64


async def _insights(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.insights, rpc), message, principal(request))


def _field(form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FORM_TEXT]


def _listed(form, name: str) -> list[str]:
    return [v for v in _LIST.split(_field(form, name)) if v]


def open_request(form) -> pb.OpenRecallRequest:
    """The form as OpenRecall asks it: one scripted answer per line, lots and regions as a list."""
    return pb.OpenRecallRequest(
        sku=_field(form, "sku"),
        lot_codes=_listed(form, "lot_codes"),
        regions=_listed(form, "regions"),
        title=_field(form, "title"),
        script=[line.strip() for line in _field(form, "script").splitlines() if line.strip()],
        consumer_message=_field(form, "consumer_message"),
        alert_id=_field(form, "alert_id"),
        reason=_field(form, "reason"),
    )


async def _notices(request: web.Request, recall_id: str) -> dict | None:
    """Outreach's count of notices sent for the recall, or None when it cannot say now."""
    ctx = context(request)
    try:
        reply = await ctx.clients.call(
            ctx.clients.campaigns.RecallTally, opb.RecallTallyRequest(recall_id=recall_id), principal(request)
        )
    except (grpc.aio.AioRpcError, TimeoutError) as exc:
        code = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else "DEADLINE_EXCEEDED"
        log.info("recall %s: outreach's notices not available (%s)", recall_id, code)
        return None
    return {"affected": reply.affected, "notified": reply.notified}


@routes.get("/insights/alerts")
@requires("insights.read")
async def alerts_page(request: web.Request) -> web.Response:
    """The early warning's alerts, newest first, each with a button to start a recall from it."""
    status = request.query.get("status", "")[:20]
    reply = await _insights(request, "ListAlerts", pb.ListAlertsRequest(status=status))
    found = sorted(reply.alerts, key=lambda a: a.first_raised_at, reverse=True)
    return render(
        request,
        "recalls/alerts.html",
        alerts=[as_json(a) for a in found],
        chosen=status,
        may_recall=allowed(principal(request), "recalls.manage"),
    )


@routes.get("/recalls/")
@requires("recalls.read")
async def list_page(request: web.Request) -> web.Response:
    reply = await _insights(request, "ListRecalls", pb.ListRecallsRequest())
    recalls = [as_json(r) for r in reply.recalls]
    return render(
        request,
        "recalls/list.html",
        opened=[r for r in recalls if r.get("status") == "open"],
        closed=[r for r in recalls if r.get("status") == "closed"],
        may_open=allowed(principal(request), "recalls.manage"),
    )


FORM_FIELDS = ("alert_id", "sku", "lot_codes", "regions", "title", "script", "consumer_message", "reason")


def _form(request: web.Request, *, status: int = 200, error: str = "", alert=None, **given) -> web.Response:
    shown = {name: given.get(name, "") for name in FORM_FIELDS}
    return render(request, "recalls/new.html", status=status, error=error, alert=alert, given=shown)


@routes.get("/recalls/new")
@requires("recalls.manage")
async def new_page(request: web.Request) -> web.Response:
    """The form, prefilled from ?alert_id= (its product and lot) or from ?sku=&lot_code=."""
    q = request.query
    alert_id = q.get("alert_id", "")[:64]
    sku, lot = q.get("sku", "")[:MAX_MENTION], q.get("lot_code", "")[:MAX_MENTION]
    alert = None
    if alert_id:
        alert = as_json(await _insights(request, "GetAlert", pb.GetAlertRequest(id=alert_id)))
        sku, lot = sku or alert.get("sku", ""), lot or alert.get("lot_code", "")
    return _form(request, alert=alert, alert_id=alert_id, sku=sku, lot_codes=lot)


@routes.post("/recalls")
@requires("recalls.manage")
async def open_recall(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        opened = await _insights(request, "OpenRecall", open_request(form))
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
            raise
        given = {name: _field(form, name) for name in FORM_FIELDS}
        return _form(request, status=400, error=error_text(exc), **given)
    raise web.HTTPSeeOther(f"/recalls/{opened.id}")


@routes.get("/recalls/{id}")
@requires("recalls.read")
async def detail_page(request: web.Request) -> web.Response:
    """The recall, its script and message, and its live tally."""
    recall_id = request.match_info["id"][:64]
    recall = as_json(await _insights(request, "GetRecall", pb.GetRecallRequest(id=recall_id)))
    tally = await _insights(request, "GetRecallTally", pb.GetRecallTallyRequest(recall_id=recall_id))
    return render(
        request,
        "recalls/detail.html",
        recall=recall,
        tally={"contacts": tally.contacts, "buyers": tally.buyers},
        notices=await _notices(request, recall_id),
        may_close=allowed(principal(request), "recalls.manage") and recall.get("status") == "open",
        may_queue=allowed(principal(request), "cases.queue"),
        error=request.query.get("error", "")[:300],
    )


@routes.get("/recalls/{id}/queue")
@requires("cases.queue")
async def queue_page(request: web.Request) -> web.Response:
    """The recall's own queue: the open cases about its product and lots (casework routes them there)."""
    ctx, who = context(request), principal(request)
    recall_id = request.match_info["id"][:64]
    recall = as_json(await _insights(request, "GetRecall", pb.GetRecallRequest(id=recall_id)))
    message = cpb.GetRecallQueueRequest(recall_id=recall_id, limit=200)
    reply = await ctx.clients.call(ctx.clients.casework.GetRecallQueue, message, who)
    return render(request, "recalls/queue.html", recall=recall, cases=[as_json(c) for c in reply.cases])


@routes.post("/recalls/{id}/close")
@requires("recalls.manage")
async def close_recall(request: web.Request) -> web.StreamResponse:
    recall_id = request.match_info["id"][:64]
    form = await request.post()
    message = pb.CloseRecallRequest(id=recall_id, reason=_field(form, "reason"))
    try:
        await _insights(request, "CloseRecall", message)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        raise web.HTTPSeeOther(f"/recalls/{recall_id}?{urlencode({'error': error_text(exc)})}") from None
    raise web.HTTPSeeOther(f"/recalls/{recall_id}")


@routes.get("/api/recalls/find")
@requires("recalls.read")
@shapes(reply=pb.FindRecallsResponse.DESCRIPTOR)
async def find(request: web.Request) -> web.Response:
    """GET ?sku=&lot_code= -> {"recalls": [Recall]}: the open recalls covering the product (and lot; none
    given: any lot), with their scripts, for the capture form."""
    sku = request.query.get("sku", "").strip()
    lot = request.query.get("lot_code", "").strip()
    if not sku or len(sku) > MAX_MENTION or len(lot) > MAX_MENTION:
        raise BadRequest(
            f"sku: a product code of 1 to {MAX_MENTION} characters; lot_code: at most {MAX_MENTION}"
        )
    message = pb.FindRecallsRequest(products=[pb.ProductMention(sku=sku, lot_code=lot)])
    return web.json_response(as_json(await _insights(request, "FindRecalls", message)))
