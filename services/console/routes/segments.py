"""Segments in the console: the saved segments with their size now, and the form that makes or changes one,
which counts its consumers before it is saved. Each route is a call to outreach, which owns segments."""

from __future__ import annotations

import re

import grpc
from aiohttp import web
from crs.outreach.v1 import segments_pb2 as pb

from services.console.clients import as_json
from services.console.permissions import allowed, requires
from services.console.web import context, error_text, principal, render

routes = web.RouteTableDef()
# Lists are typed: commas, spaces or lines between the values.
_LIST = re.compile(r"[\s,;]+")
LIST_FIELDS = ("regions", "languages", "bought_skus", "contacted_issue_codes")
PURPOSES = ("marketing", "surveys", "service", "recall")
MAX_FIELD = 20_000


async def call_segments(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.segments, rpc), message, principal(request))


def _field(form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FIELD]


def _attributes(text: str) -> dict[str, str]:
    """`name=value` a line; a line without `=` is kept whole as a name, so outreach names what is wrong."""
    pairs = (line.partition("=") for line in text.splitlines() if line.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}


def definition_from(form) -> pb.SegmentDefinition:
    return pb.SegmentDefinition(
        attributes=_attributes(_field(form, "attributes")),
        consent=_field(form, "consent"),
        **{name: [v for v in _LIST.split(_field(form, name)) if v] for name in LIST_FIELDS},
    )


def given_of(definition: dict) -> dict[str, str]:
    """A definition (as_json) as the form's fields show it."""
    shown = {name: ", ".join(definition.get(name, [])) for name in LIST_FIELDS}
    shown["attributes"] = "\n".join(f"{k}={v}" for k, v in sorted(definition.get("attributes", {}).items()))
    shown["consent"] = definition.get("consent", "marketing")
    return shown


def _form(request, *, segment_id: str = "", status: int = 200, error: str = "", **shown) -> web.Response:
    return render(request, "outreach/segment_form.html", status=status, segment_id=segment_id,
                  purposes=PURPOSES, error=error, **shown)  # fmt: skip


@routes.get("/segments/")
@requires("campaigns.read")
async def list_page(request: web.Request) -> web.Response:
    reply = await call_segments(request, "ListSegments", pb.ListSegmentsRequest())
    return render(
        request,
        "outreach/segments.html",
        segments=[as_json(s) for s in reply.segments],
        may_run=allowed(principal(request), "campaigns.run"),
    )


@routes.get("/segments/new")
@requires("campaigns.run")
async def new_page(request: web.Request) -> web.Response:
    return _form(request, segment_name="", given=given_of({}), size=None)


@routes.get("/segments/{id}")
@requires("campaigns.read")
async def detail_page(request: web.Request) -> web.Response:
    message = pb.GetSegmentRequest(id=request.match_info["id"][:64])
    segment = as_json(await call_segments(request, "GetSegment", message))
    return render(
        request,
        "outreach/segment.html",
        segment=segment,
        purposes=PURPOSES,
        given=given_of(segment.get("definition", {})),
        may_run=allowed(principal(request), "campaigns.run"),
    )


@routes.post("/segments")
@requires("campaigns.run")
async def save_new(request: web.Request) -> web.StreamResponse:
    return await _save(request, "")


@routes.post("/segments/{id}")
@requires("campaigns.run")
async def save_changed(request: web.Request) -> web.StreamResponse:
    return await _save(request, request.match_info["id"][:64])


async def _save(request: web.Request, segment_id: str) -> web.StreamResponse:
    """Save, or with the Count button only count: the size is shown before anything is kept."""
    form = await request.post()
    definition = definition_from(form)
    typed = {name: _field(form, name) for name in (*LIST_FIELDS, "attributes", "consent")}
    shown = {"segment_name": _field(form, "name"), "given": typed}
    try:
        if form.get("action") == "count":
            counted = await call_segments(request, "SegmentSize", definition)
            return _form(request, segment_id=segment_id, size=counted.size, **shown)
        message = pb.SaveSegmentRequest(id=segment_id, name=shown["segment_name"], definition=definition)
        saved = await call_segments(request, "SaveSegment", message)
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS):
            raise
        return _form(request, segment_id=segment_id, status=400, error=error_text(exc), size=None, **shown)
    raise web.HTTPSeeOther(f"/segments/{saved.id}")
