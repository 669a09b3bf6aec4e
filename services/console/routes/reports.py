"""The operational reports for supervisors and analysts: the Reports page, the list of reports, and one
JSON (or, with ?format=csv, CSV) route per report, grouped and over a period.

Insights declares each report (its columns and arithmetic, services/insights/domain/reports.py); this area
only passes the choice on and lays the answer out.
"""

from __future__ import annotations

import math

from aiohttp import web
from crs.insights.v1 import insights_pb2 as pb

from services.console.clients import as_json
from services.console.csv_export import csv_response
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.routes.insights import _day, _insights
from services.console.web import BadRequest, render

routes = web.RouteTableDef()


def _figure(value: float) -> float | None:
    return None if math.isnan(value) else value


@routes.get("/api/insights/reports")
@requires("insights.read")
@shapes(reply=pb.ListReportsResponse.DESCRIPTOR)
async def report_kinds(request: web.Request) -> web.Response:
    """GET -> {"reports": [{"name", "title", "columns"}], "groupings": ["team", "agent", ...]}."""
    return web.json_response(as_json(await _insights(request, "ListReports", pb.ListReportsRequest())))


@routes.get("/api/insights/reports/{name}")
@requires("insights.read")
@shapes(reply=pb.Report.DESCRIPTOR)
async def report(request: web.Request) -> web.Response:
    """GET ?by=team|agent|channel|issue&since=YYYY-MM-DD&until=YYYY-MM-DD&format=json|csv -> {"name",
    "title", "by", "since", "until", "columns": [...], "chart": [columns charted], "rows": [{"key", "values": [number or null]}]}; the
    last row, "(all)", is every group together. The CSV: the grouping's name (or "group"), then the
    columns, one line per row; an empty cell is a figure with nothing to measure."""
    q = request.query
    by = q.get("by", "")  # insights refuses a grouping it does not know, naming those it does
    fmt = q.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("format: json or csv")
    message = pb.GetReportRequest(
        name=request.match_info["name"], by=by, since=_day(q, "since"), until=_day(q, "until")
    )
    found = await _insights(request, "GetReport", message)
    if fmt == "csv":
        rows = [[r.key, *r.values] for r in found.rows]
        return csv_response(f"report-{found.name}", [by or "group", *found.columns], rows)
    return web.json_response(
        {
            "name": found.name,
            "title": found.title,
            "by": found.by,
            "since": found.since,
            "until": found.until,
            "columns": list(found.columns),
            "chart": list(found.chart),
            "rows": [{"key": r.key, "values": [_figure(v) for v in r.values]} for r in found.rows],
        }
    )


@routes.get("/insights/reports")
@requires("insights.read")
async def reports_page(request: web.Request) -> web.Response:
    return render(request, "insights/reports.html")
