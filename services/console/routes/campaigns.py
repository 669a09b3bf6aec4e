"""Campaigns in the console: the list, a new campaign to a saved segment, and a campaign's page with its
test send, start, pause and resume, its progress while it runs (the page polls a small JSON route; without
JavaScript it shows the figures as they were when it loaded) and its results, by reason.

Each route is a call to outreach, which owns campaigns and sends them.
"""

from __future__ import annotations

from urllib.parse import urlencode

import grpc
from aiohttp import web
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import segments_pb2 as spb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import allowed, requires
from services.console.routes.segments import call_segments
from services.console.web import context, error_text, principal, render

routes = web.RouteTableDef()
MAX_FIELD = 50_000
MOVES = ("test", "start", "pause", "resume")
FORM_FIELDS = ("name", "segment_id", "subject", "body", "rate_per_second")


async def _campaigns(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.campaigns, rpc), message, principal(request))


def _field(form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FIELD]


def _rate(text: str) -> int:
    """Messages a second as typed: empty is outreach's default (0); text that is no whole number is sent
    as -1, which outreach refuses saying what a rate may be."""
    if not text:
        return 0
    return int(text) if text.isdigit() and len(text) <= 6 else -1


def create_request(form) -> pb.CreateCampaignRequest:
    return pb.CreateCampaignRequest(
        name=_field(form, "name"),
        segment_id=_field(form, "segment_id"),
        subject=_field(form, "subject"),
        body=_field(form, "body"),
        rate_per_second=_rate(_field(form, "rate_per_second")),
    )


def moves_for(state: str) -> list[str]:
    """The buttons a campaign's page offers in its state (outreach still decides)."""
    return {
        "draft": ["test"],
        "tested": ["test", "start"],
        "running": ["pause"],
        "paused": ["resume"],
    }.get(state, [])


@routes.get("/campaigns/")
@requires("campaigns.read")
async def list_page(request: web.Request) -> web.Response:
    reply = await _campaigns(request, "ListCampaigns", pb.ListCampaignsRequest())
    return render(
        request,
        "outreach/campaigns.html",
        campaigns=[as_json(c) for c in reply.campaigns],
        may_run=allowed(principal(request), "campaigns.run"),
    )


async def _form(request: web.Request, *, status: int = 200, error: str = "", **given) -> web.Response:
    segments = await call_segments(request, "ListSegments", spb.ListSegmentsRequest())
    shown = {name: given.get(name, "") for name in FORM_FIELDS}
    return render(
        request,
        "outreach/campaign_new.html",
        status=status,
        error=error,
        given=shown,
        segments=[as_json(s) for s in segments.segments],
    )


@routes.get("/campaigns/new")
@requires("campaigns.run")
async def new_page(request: web.Request) -> web.Response:
    return await _form(request, segment_id=request.query.get("segment_id", "")[:64], rate_per_second="50")


@routes.post("/campaigns")
@requires("campaigns.run")
async def create(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        made = await _campaigns(request, "CreateCampaign", create_request(form))
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
            raise
        given = {name: _field(form, name) for name in FORM_FIELDS}
        return await _form(request, status=400, error=error_text(exc), **given)
    raise web.HTTPSeeOther(f"/campaigns/{made.id}")


@routes.get("/campaigns/{id}")
@requires("campaigns.read")
async def detail_page(request: web.Request) -> web.Response:
    message = pb.GetCampaignRequest(campaign_id=request.match_info["id"][:64])
    campaign = as_json(await _campaigns(request, "GetCampaign", message))
    may_run = allowed(principal(request), "campaigns.run")
    return render(
        request,
        "outreach/campaign.html",
        campaign=campaign,
        progress=campaign["progress"],
        moves=moves_for(campaign["progress"]["state"]) if may_run else [],
        error=request.query.get("error", "")[:300],
        done=request.query.get("done", "")[:300],
    )


@routes.post("/campaigns/{id}/move")
@requires("campaigns.run")
async def move(request: web.Request) -> web.StreamResponse:
    """Test (to the address typed), start, pause or resume; back to the page saying what happened."""
    campaign_id = request.match_info["id"][:64]
    form = await request.post()
    chosen = _field(form, "move")
    message = pb.MoveCampaignRequest(campaign_id=campaign_id, move=chosen, test_to=_field(form, "test_to"))
    try:
        await _campaigns(request, "MoveCampaign", message)
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
            raise
        raise web.HTTPSeeOther(f"/campaigns/{campaign_id}?{urlencode({'error': error_text(exc)})}") from None
    said = f"a test went to {message.test_to}" if chosen == "test" else f"{chosen}: done"
    raise web.HTTPSeeOther(f"/campaigns/{campaign_id}?{urlencode({'done': said})}")


@routes.get("/api/campaigns/{id}/progress")
@requires("campaigns.read")
@shapes(reply=pb.CampaignProgress.DESCRIPTOR)
async def progress(request: web.Request) -> web.Response:
    """GET -> CampaignProgress: the campaign's state and figures now, for its page to refresh."""
    message = pb.GetCampaignProgressRequest(campaign_id=request.match_info["id"][:64])
    return web.json_response(as_json(await _campaigns(request, "GetCampaignProgress", message)))
