"""The access log for supervisors and admins, and lifting a log-in lockout for admins."""

from __future__ import annotations

from aiohttp import web

from services.console.permissions import audited, requires
from services.console.web import context, principal

routes = web.RouteTableDef()
MAX_ENTRIES = 500


@routes.get("/api/audit")
@requires("audit.read")
@audited("audit.read")
async def access_log(request: web.Request) -> web.Response:
    """GET ?actor=&subject=&action=&limit= -> {"entries": [{id, at, actor, actor_role, action, subject,
    client_address, detail}]}: who read, played, exported or changed what, newest first."""
    q = request.query
    try:
        limit = max(1, min(MAX_ENTRIES, int(q.get("limit", "100"))))
    except ValueError:
        return web.json_response({"error": "limit: a whole number"}, status=400)
    entries = await context(request).accounts.access_log(
        actor=q.get("actor") or None,
        subject=q.get("subject") or None,
        action=q.get("action") or None,
        limit=limit,
    )
    for entry in entries:
        entry["at"] = entry["at"].isoformat()
    return web.json_response({"entries": entries})


@routes.post("/api/agents/{username}/unlock")
@requires("agents.manage")
async def unlock(request: web.Request) -> web.Response:
    """POST -> {"unlocked": username}: lift the lockout that failed log-ins put on an account."""
    username = request.match_info["username"]
    ctx, me = context(request), principal(request)
    if not await ctx.accounts.unlock(username):
        return web.json_response({"error": "no such agent"}, status=404)
    await ctx.accounts.record_access(
        actor=me.username,
        role=me.role,
        action="account.unlock",
        subject=username,
        address=request.remote or "",
    )
    return web.json_response({"unlocked": username})
