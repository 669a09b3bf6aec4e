"""The public web form's figures for supervisors: how often suggested articles answered consumers before
they wrote in (deflections), from channels, as the person asking."""

from __future__ import annotations

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb

from services.console.permissions import requires
from services.console.web import BadRequest, context, principal, render

routes = web.RouteTableDef()
PERIODS = (7, 30, 90)


@routes.get("/web-form")
@requires("web_form.tally")
async def web_form_page(request: web.Request) -> web.Response:
    """The last 7, 30 or 90 days (`?days=`): suggestions shown, deflections, forms sent anyway."""
    days = request.query.get("days", "30")
    if not days.isdigit() or int(days) not in PERIODS:
        raise BadRequest(f"days: one of {', '.join(map(str, PERIODS))}")
    ctx = context(request)
    tally = await ctx.clients.call(
        ctx.clients.channels.WebFormTally, pb.WebFormTallyRequest(days=int(days)), principal(request)
    )
    return render(request, "web_form.html", tally=tally, periods=PERIODS)
