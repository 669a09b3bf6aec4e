"""The development mail sink, browsed: what channels' sink received (the replies that would have reached
consumers), for admins trying the demo. Development only: with a real relay there is no sink to show."""

from __future__ import annotations

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.web import context, principal, render

routes = web.RouteTableDef()


@routes.get("/mail-sink")
@requires("mail.sink")
async def sink_page(request: web.Request) -> web.Response:
    return render(request, "mail_sink.html")


@routes.get("/api/mail-sink")
@requires("mail.sink")
@shapes(reply=pb.ListSinkMailResponse.DESCRIPTOR)
async def sink_mail(request: web.Request) -> web.Response:
    """GET -> {"mail": [SinkMail]}: the newest 50 messages the development sink received."""
    ctx = context(request)
    found = await ctx.clients.call(
        ctx.clients.channels.ListSinkMail, pb.ListSinkMailRequest(limit=50), principal(request)
    )
    return web.json_response(as_json(found))
