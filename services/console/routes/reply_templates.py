"""Reply templates, from channels: the admin's page that keeps them, and those a case's reply is offered,
in the consumer's language (else the case's, else English)."""

from __future__ import annotations

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb
from crs.contacts.v1 import casework_pb2, contacts_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()


async def _call(request: web.Request, client: str, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(getattr(ctx.clients, client), rpc), message, principal(request))


@routes.get("/reply-templates")
@requires("templates.manage")
async def templates_page(request: web.Request) -> web.Response:
    return render(request, "reply_templates.html")


@routes.get("/api/reply-templates")
@requires("templates.manage")
@shapes(reply=pb.ListReplyTemplatesResponse.DESCRIPTOR)
async def every_template(request: web.Request) -> web.Response:
    """GET -> {"templates": [ReplyTemplate]}: every template in every language, by name."""
    found = await _call(request, "channels", "ListReplyTemplates", pb.ListReplyTemplatesRequest())
    return web.json_response(as_json(found))


@routes.post("/api/reply-templates")
@requires("templates.manage")
@shapes(body=pb.ReplyTemplate.DESCRIPTOR, reply=pb.ReplyTemplate.DESCRIPTOR)
async def save_template(request: web.Request) -> web.Response:
    """POST {"id"?, "name", "language", "body"} -> the template as kept (id set: that one changed)."""
    body = await json_body(request)
    fields = {k: body.get(k, "") for k in ("name", "language", "body")}
    if not all(isinstance(v, str) for v in fields.values()) or not isinstance(body.get("id", 0), int):
        raise BadRequest("name, language, body: text; id: a number")
    message = pb.ReplyTemplate(id=body.get("id", 0), **fields)
    saved = await _call(request, "channels", "SaveReplyTemplate", message)
    return web.json_response(as_json(saved), status=200 if message.id else 201)


@routes.delete("/api/reply-templates/{template_id:\\d+}")
@requires("templates.manage")
async def delete_template(request: web.Request) -> web.Response:
    """DELETE -> {"deleted": id}."""
    template_id = int(request.match_info["template_id"])
    await _call(request, "channels", "DeleteReplyTemplate", pb.DeleteReplyTemplateRequest(id=template_id))
    return web.json_response({"deleted": template_id})


@routes.get("/api/contacts/{id}/reply-templates")
@requires("cases.update")
async def case_templates(request: web.Request) -> web.Response:
    """GET -> {"language", "templates": [ReplyTemplate]}: what a reply on this case is offered."""
    case = await _call(
        request, "casework", "GetCase", casework_pb2.GetCaseRequest(id=request.match_info["id"])
    )
    language = ""
    if case.consumer_id:
        consumer = await _call(
            request, "contacts", "GetConsumer", contacts_pb2.GetConsumerRequest(id=case.consumer_id)
        )
        language = consumer.language
    language = (language or case.language or "en").lower()
    found = await _call(
        request, "channels", "ListReplyTemplates", pb.ListReplyTemplatesRequest(language=language)
    )
    return web.json_response({"language": language, **as_json(found)})
