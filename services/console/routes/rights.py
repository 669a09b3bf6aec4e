"""The consumer's rights from the console: the export archive and the erasure, for a supervisor or an admin,
each with a reason. Contacts' ConsumerRights does the work (docs/privacy.md); the console only asks."""

from __future__ import annotations

import uuid

from aiohttp import web
from crs.contacts.v1 import rights_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import AUDIT_DETAIL, BadRequest, context, json_body, principal

routes = web.RouteTableDef()
MAX_ID = 64
MAX_REASON = 500
EXPORT_DEADLINE = 300.0


def _reason(value) -> str:
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        raise BadRequest("reason: say why (the consumer's request, a regulator's, ...)")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"reason: at most {MAX_REASON} characters")
    return reason


@routes.get("/api/consumers/{consumer_id}/export")
@requires("consumers.export")
@audited("consumer.export", "consumer_id")
async def export(request: web.Request) -> web.Response:
    """GET ?reason= -> application/zip: everything.json, the recordings, and summary.txt."""
    request[AUDIT_DETAIL] = f"reason: {_reason(request.query.get('reason'))}"
    ctx = context(request)
    answer = await ctx.clients.call(
        ctx.clients.rights.ExportArchive,
        pb.ExportArchiveRequest(consumer_id=request.match_info["consumer_id"][:MAX_ID]),
        principal(request),
        deadline=EXPORT_DEADLINE,
    )
    return web.Response(
        body=answer.archive,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{answer.file_name}"',
            "Cache-Control": "private, no-store",
        },
    )


@routes.post("/api/consumers/{consumer_id}/erasure")
@requires("consumers.erase")
@audited("consumer.erase", "consumer_id")
@shapes(reply=pb.Erasure.DESCRIPTOR)
async def erase(request: web.Request) -> web.Response:
    """POST {"reason", "erasure_id"?} -> 202 and the Erasure; 409 with the reason when a legal hold applies.

    The same erasure_id posted twice starts one erasure. GET /api/erasures/{id} shows the receipt."""
    body = await json_body(request)
    erasure_id = body.get("erasure_id") or str(uuid.uuid4())
    if not isinstance(erasure_id, str):
        raise BadRequest("erasure_id: a UUID")
    ctx = context(request)
    erasure = await ctx.clients.call(
        ctx.clients.rights.RequestErasure,
        pb.RequestErasureRequest(
            consumer_id=request.match_info["consumer_id"][:MAX_ID],
            reason=_reason(body.get("reason")),
            erasure_id=erasure_id[:MAX_ID],
        ),
        principal(request),
    )
    return web.json_response(as_json(erasure), status=202)


@routes.get("/api/erasures/{erasure_id}")
@requires("consumers.erase")
@shapes(reply=pb.Erasure.DESCRIPTOR)
async def receipt(request: web.Request) -> web.Response:
    """GET -> the Erasure: its state, and what each service erased and when."""
    ctx = context(request)
    erasure = await ctx.clients.call(
        ctx.clients.rights.GetErasure,
        pb.GetErasureRequest(erasure_id=request.match_info["erasure_id"][:MAX_ID]),
        principal(request),
    )
    return web.json_response(as_json(erasure))
