"""A case's email conversation, from channels: the messages both ways, and the agent's reply.

The reply's sender is the signed-in person (the principal the console passes), never a field of the body.
"""

from __future__ import annotations

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb
from crs.contacts.v1 import inbox_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import BadRequest, context, json_body, principal

routes = web.RouteTableDef()
MAX_REPLY = 20000


async def _channels(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.channels, rpc), message, principal(request))


async def _answering(request: web.Request) -> None:
    """Replying is answering: it takes the case's claim (or extends one's own), and is refused, naming
    who, while another agent holds it (docs/casework.md, "The inbox")."""
    ctx = context(request)
    claim = inbox_pb2.ClaimCaseRequest(case_id=request.match_info["id"])
    await ctx.clients.call(ctx.clients.inbox.ClaimCase, claim, principal(request))


@routes.get("/api/contacts/{id}/messages")
@requires("cases.read")
@audited("case.read", "id")
@shapes(reply=pb.ListMessagesResponse.DESCRIPTOR)
async def list_messages(request: web.Request) -> web.Response:
    """GET -> {"messages": [Message]}, oldest first."""
    reply = await _channels(request, "ListMessages", pb.ListMessagesRequest(case_id=request.match_info["id"]))
    return web.json_response(as_json(reply))


@routes.post("/api/contacts/{id}/replies")
@requires("cases.update")
@shapes(reply=pb.Message.DESCRIPTOR)
async def send_reply(request: web.Request) -> web.Response:
    """POST {"body", "subject"?} -> the queued Message; it is sent through the outbox, with retries."""
    body = await json_body(request)
    text, subject = body.get("body", ""), body.get("subject", "")
    if not isinstance(text, str) or not isinstance(subject, str):
        raise BadRequest("body, subject: text")
    if not text.strip() or len(text) > MAX_REPLY:
        raise BadRequest(f"body: 1 to {MAX_REPLY} characters")
    await _answering(request)
    message = pb.SendReplyRequest(case_id=request.match_info["id"], body=text, subject=subject[:500])
    return web.json_response(as_json(await _channels(request, "SendReply", message)), status=201)
