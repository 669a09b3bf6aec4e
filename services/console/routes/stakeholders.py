"""The stakeholder lists, from insights (docs/insights.md, "Staff mail"): who gets the QA alert emails and
the weekly digest. An admin keeps them; quality assurance (analyst) reads them; and the week's digest PDF
for the people who read the dashboard."""

from __future__ import annotations

from aiohttp import web
from crs.insights.v1 import staff_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()


async def _call(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.staff, rpc), message, principal(request))


@routes.get("/admin/stakeholders")
@requires("stakeholders.read")
async def stakeholders_page(request: web.Request) -> web.Response:
    return render(request, "stakeholders.html")


@routes.get("/api/stakeholders")
@requires("stakeholders.read")
@shapes(reply=pb.ListStakeholdersResponse.DESCRIPTOR)
async def every_stakeholder(request: web.Request) -> web.Response:
    """GET -> {"stakeholders": [{"email", "role", "name"}]}: every list (marketing, qa, legal)."""
    return web.json_response(as_json(await _call(request, "ListStakeholders", pb.ListStakeholdersRequest())))


@routes.post("/api/stakeholders")
@requires("stakeholders.manage")
@shapes(body=pb.Stakeholder.DESCRIPTOR, reply=pb.Stakeholder.DESCRIPTOR)
async def put_stakeholder(request: web.Request) -> web.Response:
    """POST {"email", "role", "name"} -> the person as kept on the list (added, or renamed)."""
    body = await json_body(request)
    fields = {k: body.get(k, "") for k in ("email", "role", "name")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise BadRequest("email, role, name: text")
    return web.json_response(as_json(await _call(request, "PutStakeholder", pb.Stakeholder(**fields))))


@routes.delete("/api/stakeholders/{role}/{email}")
@requires("stakeholders.manage")
async def remove_stakeholder(request: web.Request) -> web.Response:
    """DELETE -> {"removed": email}: off that list."""
    role, email = request.match_info["role"], request.match_info["email"]
    await _call(request, "RemoveStakeholder", pb.RemoveStakeholderRequest(email=email, role=role))
    return web.json_response({"removed": email})


@routes.get("/api/insights/digest")
@requires("insights.read")
async def digest_pdf(request: web.Request) -> web.Response:
    """GET ?week=YYYY-Www&list=qa -> the week's digest as the PDF that list receives (default: last week)."""
    query = pb.GetDigestRequest(week=request.query.get("week", ""), list=request.query.get("list", ""))
    found = await _call(request, "GetDigest", query)
    return web.Response(
        body=found.pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{found.filename}"'},
    )
