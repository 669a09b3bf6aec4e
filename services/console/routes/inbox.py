"""The inbox: an agent's work across every channel in SLA order, claiming a case to answer it, follow-ups
and their reminders; a supervisor's team inbox, workload and assignment rules. Each route is a call to
contacts' Inbox service as the signed-in person; their skills and their team's agents come from the
accounts here.
"""

from __future__ import annotations

from aiohttp import web
from crs.contacts.v1 import inbox_pb2 as pb
from google.protobuf import json_format, timestamp_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import check, requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()
CHANNELS = ("", "phone", "email", "letter", "chat", "web")


async def _inbox(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.inbox, rpc), message, principal(request))


def _text(body: dict, name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name}: text")
    return value[:limit]


async def _team(request: web.Request) -> list[str]:
    return await context(request).accounts.team_agents(principal(request).team_id)


@routes.get("/inbox")
@requires("inbox.read")
async def inbox_page(request: web.Request) -> web.Response:
    return render(request, "inbox.html")


@routes.get("/inbox/rules")
@requires("inbox.rules")
async def rules_page(request: web.Request) -> web.Response:
    return render(request, "inbox_rules.html")


@routes.get("/api/inbox")
@requires("inbox.read")
@shapes(reply=pb.InboxPage.DESCRIPTOR)
async def get_inbox(request: web.Request) -> web.Response:
    """GET ?scope=mine|team&channel= -> {"items": [InboxItem], "follow_ups": [FollowUp], "reminders":
    [FollowUp]}: open cases of every channel, most due first, and the open follow-ups (reminders: those
    whose time has come). scope=team is a supervisor's: their team's inbox."""
    scope = request.query.get("scope", "mine")
    if scope not in ("mine", "team"):
        raise BadRequest("scope: mine or team")
    channel = request.query.get("channel", "")
    if channel not in CHANNELS:
        raise BadRequest(f"channel: one of {', '.join(CHANNELS[1:])}, or empty for all")
    who = principal(request)
    message = pb.GetInboxRequest(scope=scope, channel=channel)
    if scope == "team":
        check(who, "inbox.team", "only a supervisor sees a team's inbox")
        message.agents.extend(await _team(request))
    else:
        message.skills.extend(await context(request).accounts.skills(who.agent_id))
    return web.json_response(as_json(await _inbox(request, "GetInbox", message)))


@routes.post("/api/contacts/{id}/claim")
@requires("inbox.claim")
@shapes(reply=pb.CaseClaim.DESCRIPTOR)
async def claim(request: web.Request) -> web.Response:
    """POST {"minutes"} (optional, 1 to 480; default 15) -> the CaseClaim. 409 when someone else holds
    the case, naming them; claiming again extends one's own claim."""
    body = await json_body(request) if request.can_read_body else {}
    minutes = body.get("minutes", 0)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 480:
        raise BadRequest("minutes: a whole number from 1 to 480 (0: the default, 15)")
    message = pb.ClaimCaseRequest(case_id=request.match_info["id"], minutes=minutes)
    return web.json_response(as_json(await _inbox(request, "ClaimCase", message)))


@routes.delete("/api/contacts/{id}/claim")
@requires("inbox.claim")
@shapes(reply=pb.CaseClaim.DESCRIPTOR)
async def release(request: web.Request) -> web.Response:
    """DELETE -> the CaseClaim, released: one's own, or (a supervisor) anyone's."""
    message = pb.ReleaseCaseRequest(case_id=request.match_info["id"])
    return web.json_response(as_json(await _inbox(request, "ReleaseCase", message)))


@routes.get("/api/contacts/{id}/follow-ups")
@requires("inbox.read")
@shapes(reply=pb.FollowUps.DESCRIPTOR)
async def case_follow_ups(request: web.Request) -> web.Response:
    """GET ?include_closed= -> {"follow_ups": [FollowUp]}, most due first."""
    message = pb.ListFollowUpsRequest(
        case_id=request.match_info["id"], include_closed=request.query.get("include_closed") in ("true", "1")
    )
    return web.json_response(as_json(await _inbox(request, "ListFollowUps", message)))


@routes.post("/api/contacts/{id}/follow-ups")
@requires("follow_ups.write")
@shapes(reply=pb.FollowUp.DESCRIPTOR)
async def add_follow_up(request: web.Request) -> web.Response:
    """POST {"text", "due_at", "assignee"} -> 201 the FollowUp. The assignee is oneself unless a
    supervisor names someone; `due_at` is a time such as 2026-05-01T09:30:00Z."""
    body = await json_body(request)
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(_text(body, "due_at", 40))
    except ValueError:
        raise BadRequest("due_at: a time such as 2026-05-01T09:30:00Z") from None
    message = pb.AddFollowUpRequest(
        case_id=request.match_info["id"],
        assignee=_text(body, "assignee", 64),
        text=_text(body, "text", 2000),
        due_at=stamp,
    )
    return web.json_response(as_json(await _inbox(request, "AddFollowUp", message)), status=201)


@routes.post("/api/follow-ups/{id}/close")
@requires("follow_ups.write")
@shapes(reply=pb.FollowUp.DESCRIPTOR)
async def close_follow_up(request: web.Request) -> web.Response:
    """POST {"state": "done" | "cancelled"} -> the FollowUp."""
    body = await json_body(request)
    message = pb.CloseFollowUpRequest(id=request.match_info["id"], state=_text(body, "state", 16))
    return web.json_response(as_json(await _inbox(request, "CloseFollowUp", message)))


@routes.get("/api/inbox/workload")
@requires("inbox.team")
@shapes(reply=pb.Workload.DESCRIPTOR)
async def workload(request: web.Request) -> web.Response:
    """GET -> {"agents": [AgentLoad], "unassigned"}: each agent of the supervisor's team, with their open
    cases, claims and follow-ups, how many are due within the hour and how many are overdue."""
    message = pb.GetWorkloadRequest(agents=await _team(request))
    return web.json_response(as_json(await _inbox(request, "GetWorkload", message)))


@routes.get("/api/inbox/rules")
@requires("inbox.rules_read")
@shapes(reply=pb.InboxRules.DESCRIPTOR)
async def list_rules(request: web.Request) -> web.Response:
    """GET -> {"rules": [InboxRule]}, in the order they are tried."""
    return web.json_response(as_json(await _inbox(request, "ListInboxRules", pb.ListInboxRulesRequest())))


@routes.post("/api/inbox/rules")
@requires("inbox.rules")
@shapes(body=pb.InboxRule.DESCRIPTOR, reply=pb.InboxRule.DESCRIPTOR)
async def put_rule(request: web.Request) -> web.Response:
    """POST an InboxRule (with "id" to change one) -> the rule as stored. Conditions: channel, language,
    issue_prefix (empty matches anything); targets: team, skill; lower position runs first."""
    body = await json_body(request)
    body.setdefault("active", True)
    try:
        rule = json_format.ParseDict(body, pb.InboxRule())
    except json_format.ParseError as exc:
        raise BadRequest(str(exc)) from None
    return web.json_response(as_json(await _inbox(request, "PutInboxRule", rule)))
