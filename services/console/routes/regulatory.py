"""Regulatory clocks: marking a case's report filed, the download of the fields its regime's form needs, and
the admin section where regimes and business holidays are kept. Each route is a call to contacts'
Regulatory service as the signed-in person (docs/casework.md, "Regulatory clocks")."""

from __future__ import annotations

import csv
import io

from aiohttp import web
from crs.contacts.v1 import casework_pb2 as case_pb
from crs.contacts.v1 import regulatory_pb2 as pb
from google.protobuf import json_format, timestamp_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()


async def _regulatory(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.regulatory, rpc), message, principal(request))


def _parsed(body: dict, message):
    try:
        return json_format.ParseDict(body, message)
    except json_format.ParseError as exc:
        raise BadRequest(str(exc)) from None


@routes.get("/regulatory")
@requires("regulatory.read")
async def regimes_page(request: web.Request) -> web.Response:
    return render(request, "regulatory.html")


@routes.post("/api/contacts/{id}/regulatory-report")
@requires("regulatory.file")
@shapes(body=pb.FileReportRequest.DESCRIPTOR, reply=case_pb.Case.DESCRIPTOR)
async def file_report(request: web.Request) -> web.Response:
    """POST {"reference": "MW-5012345", "reported_at": "2026-12-03T10:00:00Z" (empty: now)} -> the Case,
    its regulatory_clock filed: the report was filed with the authority, by the signed-in person."""
    body = await json_body(request)
    message = pb.FileReportRequest(
        case_id=request.match_info["id"], reference=str(body.get("reference", ""))[:200]
    )
    if body.get("reported_at"):
        stamp = timestamp_pb2.Timestamp()
        try:
            stamp.FromJsonString(str(body["reported_at"]))
        except ValueError:
            raise BadRequest("reported_at: a time such as 2026-12-03T10:00:00Z") from None
        message.reported_at.CopyFrom(stamp)
    return web.json_response(as_json(await _regulatory(request, "FileReport", message)))


@routes.get("/api/contacts/{id}/regulatory-export")
@requires("regulatory.export")
@audited("case.regulatory_export", "id")
@shapes(reply=pb.RegulatoryExport.DESCRIPTOR)
async def export_report(request: web.Request) -> web.Response:
    """GET ?format=json|csv -> the fields the case's regime's form needs, in the form's order (CSV: a
    download of field,value rows, after the regime, its form and the report's state)."""
    chosen = request.query.get("format", "json")
    if chosen not in ("json", "csv"):
        raise BadRequest("format: json or csv")
    export = await _regulatory(
        request, "ExportReport", pb.ExportReportRequest(case_id=request.match_info["id"])
    )
    if chosen == "json":
        return web.json_response(as_json(export))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("field", "value"))
    clock = export.clock
    writer.writerows((("regime", clock.regime), ("form", f"{clock.authority} {clock.form}".strip())))
    writer.writerow(("report_state", clock.state))
    writer.writerows((f.name, f.value) for f in export.fields)
    name = f"case-{export.reference}-{clock.regime}"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )


@routes.get("/api/regulatory/regimes")
@requires("regulatory.read")
@shapes(reply=pb.Regimes.DESCRIPTOR)
async def list_regimes(request: web.Request) -> web.Response:
    """GET ?include_inactive=true -> {"regimes": [Regime], "form_fields": [name]}."""
    message = pb.ListRegimesRequest(include_inactive=request.query.get("include_inactive") in ("true", "1"))
    return web.json_response(as_json(await _regulatory(request, "ListRegimes", message)))


@routes.post("/api/regulatory/regimes")
@requires("regulatory.manage")
@shapes(body=pb.Regime.DESCRIPTOR, reply=pb.Regime.DESCRIPTOR)
async def put_regime(request: web.Request) -> web.Response:
    """POST a Regime (its code names the one to change) -> the regime as stored; active false retires it."""
    body = await json_body(request)
    body.setdefault("active", True)
    return web.json_response(as_json(await _regulatory(request, "PutRegime", _parsed(body, pb.Regime()))))


@routes.get("/api/regulatory/holidays")
@requires("regulatory.read")
@shapes(reply=pb.Holidays.DESCRIPTOR)
async def list_holidays(request: web.Request) -> web.Response:
    """GET -> {"holidays": [{"day": "2026-12-25", "name": "Christmas Day"}]}: the days business days skip."""
    return web.json_response(as_json(await _regulatory(request, "ListHolidays", pb.ListHolidaysRequest())))


@routes.post("/api/regulatory/holidays")
@requires("regulatory.manage")
@shapes(body=pb.PutHolidayRequest.DESCRIPTOR, reply=pb.Holidays.DESCRIPTOR)
async def put_holiday(request: web.Request) -> web.Response:
    """POST {"holiday": {"day": "2026-12-24", "name": "Plant closed"}, "remove": false} -> {"holidays": [...]}."""
    body = await json_body(request)
    return web.json_response(
        as_json(await _regulatory(request, "PutHoliday", _parsed(body, pb.PutHolidayRequest())))
    )
