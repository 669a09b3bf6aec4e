"""The voice of the consumer for analysts and supervisors: the dashboard page, one JSON (or, with
?format=csv, CSV) route per chart, and the drill-down from a point to the contacts behind it.

Insights gives the figures and, for a point, contact ids alone (it holds no personal data). The cases are
casework's to show, under its own rules for the person asking: a supervisor reads each case; an analyst
searches by product, issue and dates and gets every case with its personal data removed
(services/contacts/casework/domain/access.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import grpc
from aiohttp import web
from crs.contacts.v1 import casework_pb2 as cpb
from crs.insights.v1 import insights_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from services.console.clients import as_json
from services.console.csv_export import csv_response
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import BadRequest, context, principal, render

routes = web.RouteTableDef()
DIMENSIONS = ("issue", "product", "region", "channel")
MAX_WEEKS = 156
MAX_TEXT = 200
# Cases read one by one for a supervisor's drill-down, and at once; an analyst's search has its page.
DRILL_CASES = 50
DRILL_PARALLEL = 8
ANALYST_PAGE = 200


def _text(query, name: str) -> str:
    value = query.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{name}: at most {MAX_TEXT} characters")
    return value


def _whole(query, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name}: a whole number from {low} to {high}")
    return int(raw)


def _day(query, name: str) -> str:
    raw = query.get(name, "")
    if not raw:
        return ""
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise BadRequest(f"{name}: a date YYYY-MM-DD") from None


async def _insights(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.insights, rpc), message, principal(request))


def _wants_csv(request: web.Request) -> bool:
    chosen = request.query.get("format", "json")
    if chosen not in ("json", "csv"):
        raise BadRequest("format: json or csv")
    return chosen == "csv"


async def _volumes(request: web.Request, by: str, issue_code: str, name: str) -> web.Response:
    q = request.query
    reply = await _insights(
        request,
        "GetVolumes",
        pb.GetVolumesRequest(
            by=by,
            weeks=_whole(q, "weeks", 26, 1, MAX_WEEKS),
            issue_code=issue_code,
            level=_whole(q, "level", 2, 1, 6),
            max_keys=_whole(q, "keys", 8, 1, 50),
        ),
    )
    if _wants_csv(request):
        rows = [[p.week, p.key, p.contacts] for p in reply.points]
        return csv_response(name, ["week", by, "contacts"], rows)
    return web.json_response({"by": by, "issue_code": issue_code, **as_json(reply)})


@routes.get("/api/insights/volumes")
@requires("insights.read")
@shapes(reply=pb.GetVolumesResponse.DESCRIPTOR)
async def volumes(request: web.Request) -> web.Response:
    """GET ?by=issue|product|region|channel&weeks=&issue_code=&level=&keys=&format=json|csv -> contacts per
    week for the busiest keys (the CSV: week, key, contacts)."""
    by = request.query.get("by", "issue")
    if by not in DIMENSIONS:
        raise BadRequest(f"by: one of {', '.join(DIMENSIONS)}")
    return await _volumes(request, by, _text(request.query, "issue_code"), f"volumes-by-{by}")


@routes.get("/api/insights/praise")
@requires("insights.read")
@shapes(reply=pb.GetVolumesResponse.DESCRIPTOR)
async def praise(request: web.Request) -> web.Response:
    """GET ?weeks=&keys=&format=json|csv -> compliments (issue code compliment and under) per week by
    product."""
    return await _volumes(request, "product", "compliment", "praise")


@routes.get("/api/insights/rising")
@requires("insights.read")
@shapes(reply=pb.GetRisingIssuesResponse.DESCRIPTOR)
async def rising(request: web.Request) -> web.Response:
    """GET ?limit=&format=json|csv -> the complaint series most unusual this week (GLR-CUSUM statistic),
    highest first, with the early warning's threshold."""
    limit = _whole(request.query, "limit", 10, 1, 50)
    reply = await _insights(request, "GetRisingIssues", pb.GetRisingIssuesRequest(limit=limit))
    if _wants_csv(request):
        header = ["sku", "region", "issue_code", "observed", "expected", "score", "period_start",
                  "period_end", "alarming"]  # fmt: skip
        return csv_response("rising-issues", header, [[getattr(r, h) for h in header] for r in reply.issues])
    return web.json_response(as_json(reply))


@routes.get("/api/insights/cpmu")
@requires("insights.read")
@shapes(reply=pb.GetCpmuTrendResponse.DESCRIPTOR)
async def cpmu(request: web.Request) -> web.Response:
    """GET ?sku=&weeks=&format=json|csv -> complaints per million units by week per product, with the
    expected rate and the upper control limit."""
    q = request.query
    message = pb.GetCpmuTrendRequest(sku=_text(q, "sku"), weeks=_whole(q, "weeks", 26, 1, MAX_WEEKS))
    reply = await _insights(request, "GetCpmuTrend", message)
    if _wants_csv(request):
        fields = ["week", "units", "observed", "expected", "cpmu", "expected_cpmu", "upper_cpmu", "above"]
        rows = [
            [t.sku, t.no_sales, *(getattr(p, f) for f in fields)] for t in reply.products for p in t.points
        ]
        return csv_response("cpmu-trend", ["sku", "no_sales", *fields], rows)
    return web.json_response(as_json(reply))


def _slice(query) -> pb.Slice:
    found = pb.Slice(
        sku=_text(query, "sku"),
        lot_code=_text(query, "lot_code"),
        region=_text(query, "region"),
        channel=_text(query, "channel"),
        issue_code=_text(query, "issue_code"),
        start=_day(query, "start"),
        end=_day(query, "end"),
    )
    if not (found.start and found.end):
        raise BadRequest("start and end: the point's dates, YYYY-MM-DD")
    return found


def _moment(day: str, *, end: bool = False) -> Timestamp:
    moment = datetime.combine(date.fromisoformat(day), time.min, UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment + timedelta(days=1) if end else moment)
    return stamp


async def _cases_one_by_one(request: web.Request, ids: list[str]) -> dict[str, dict]:
    ctx, who = context(request), principal(request)
    gate = asyncio.Semaphore(DRILL_PARALLEL)

    async def one(case_id: str):
        async with gate:
            try:
                return await ctx.clients.call(
                    ctx.clients.casework.GetCase, cpb.GetCaseRequest(id=case_id), who
                )
            except grpc.aio.AioRpcError as exc:
                # Insights may count a contact casework no longer holds (erased) or never did (demo data).
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return None
                raise

    found = await asyncio.gather(*(one(i) for i in ids[:DRILL_CASES]))
    return {c.id: as_json(c) for c in found if c is not None}


async def _cases_searched(request: web.Request, where: pb.Slice, ids: list[str]) -> dict[str, dict]:
    """The analyst's way: a search by what the point is (never by person), kept to the point's ids."""
    ctx = context(request)
    message = cpb.SearchCasesRequest(
        product=where.sku,
        lot_code=where.lot_code,
        issue_code=where.issue_code,
        channel=where.channel,
        limit=ANALYST_PAGE,
        **{"from": _moment(where.start), "to": _moment(where.end, end=True)},
    )
    reply = await ctx.clients.call(ctx.clients.casework.SearchCases, message, principal(request))
    wanted = set(ids)
    return {c.id: as_json(c) for c in reply.cases if c.id in wanted}


def _drill_row(contact, case: dict | None) -> dict:
    case = case or {}
    return {
        "contact_id": contact.contact_id,
        "received_on": contact.received_on,
        "sku": contact.sku,
        "lot_code": contact.lot_code,
        "region": contact.region,
        "issue_code": contact.issue_code,
        "channel": contact.channel,
        "reference": case.get("reference", ""),
        "status": case.get("status", ""),
        "reporter": (case.get("reporter") or {}).get("name", ""),
        "consumer_id": case.get("consumer_id", ""),
        "verbatim": case.get("verbatim", ""),
    }


@routes.get("/api/insights/contacts")
@requires("insights.read")
@audited("insights.drill_down", "sku")
async def contacts(request: web.Request) -> web.Response:
    """GET ?start=&end=&sku=&lot_code=&region=&channel=&issue_code=&format=json|csv -> {"total", "shown",
    "redacted", "contacts": [...]}: the contacts behind a chart's point, newest first, each with its case
    as the person asking may see it (an analyst's without personal data)."""
    where = _slice(request.query)
    reply = await _insights(request, "ListSliceContacts", pb.ListSliceContactsRequest(slice=where))
    ids = [c.contact_id for c in reply.contacts]
    redacted = principal(request).role == "analyst"
    cases = await (_cases_searched(request, where, ids) if redacted else _cases_one_by_one(request, ids))
    rows = [_drill_row(c, cases.get(c.contact_id)) for c in reply.contacts]
    if _wants_csv(request):
        header = list(rows[0]) if rows else list(_drill_row(pb.SliceContact(), None))
        return csv_response("contacts", header, [[r[h] for h in header] for r in rows])
    return web.json_response(
        {"total": reply.total, "shown": len(cases), "redacted": redacted, "contacts": rows}
    )


@routes.get("/insights/")
@requires("insights.read")
async def dashboard(request: web.Request) -> web.Response:
    return render(request, "insights/dashboard.html")
