"""Verbatims grouped by theme on the insights dashboard: the themes of a scope (JSON, or CSV of the table)
and the contacts behind one theme with their verbatims.

Insights holds every verbatim redacted (services/insights/domain/redaction.py), so what this page shows an
analyst or a supervisor is never more than the redacted words, the coded facts and the case id.
"""

from __future__ import annotations

from aiohttp import web
from crs.insights.v1 import themes_pb2 as pb

from services.console.clients import as_json
from services.console.csv_export import csv_response
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.routes.insights import _day, _text, _wants_csv, _whole
from services.console.web import context, principal

routes = web.RouteTableDef()
MAX_CONTACTS = 500


async def _themes(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.themes, rpc), message, principal(request))


@routes.get("/api/insights/themes")
@requires("insights.read")
@shapes(reply=pb.GetThemesResponse.DESCRIPTOR)
async def themes(request: web.Request) -> web.Response:
    """GET ?start=&end=&sku=&issue_prefix=&refresh=1&format=json|csv -> {"run_id", "scope", "computed_at",
    "representation", "verbatims", "themes": [{"id", "label", "terms", "size", "rise", "weeks",
    "languages"}]}: the largest theme first (the CSV: one row per theme and week)."""
    q = request.query
    scope = pb.ThemeScope(
        start=_day(q, "start"), end=_day(q, "end"), sku=_text(q, "sku"), issue_prefix=_text(q, "issue_prefix")
    )
    message = pb.GetThemesRequest(scope=scope, refresh=q.get("refresh", "") in ("1", "true"))
    reply = await _themes(request, "GetThemes", message)
    if _wants_csv(request):
        header = ["theme", "label", "size", "rise", "languages", "week", "contacts"]
        rows = [
            [t.id, t.label, t.size, t.rise, " ".join(t.languages), w.week, w.contacts]
            for t in reply.themes
            for w in t.weeks
        ]
        return csv_response("themes", header, rows)
    return web.json_response(as_json(reply))


@routes.get("/api/insights/themes/{run_id}/{theme_id}/contacts")
@requires("insights.read")
@audited("insights.theme_contacts", "theme_id")
@shapes(reply=pb.ListThemeContactsResponse.DESCRIPTOR)
async def theme_contacts(request: web.Request) -> web.Response:
    """GET ?limit=&format=json|csv -> {"theme", "contacts": [{"contact_id", "sku", "issue_code",
    "received_on", "language", "verbatim"}], "total"}: the contacts behind a theme, newest first, with
    their redacted verbatims."""
    message = pb.ListThemeContactsRequest(
        run_id=_text(request.match_info, "run_id"),
        theme_id=_text(request.match_info, "theme_id"),
        limit=_whole(request.query, "limit", 200, 1, MAX_CONTACTS),
    )
    reply = await _themes(request, "ListThemeContacts", message)
    if _wants_csv(request):
        header = ["contact_id", "received_on", "sku", "issue_code", "language", "verbatim"]
        return csv_response(
            "theme-contacts", header, [[getattr(c, h) for h in header] for c in reply.contacts]
        )
    return web.json_response(as_json(reply))
