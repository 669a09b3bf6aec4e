"""Casework: the pages (capture, a case with its timeline, the supervisors' queue, search, early warning)
and the JSON API they and integrations use, each a call to contacts' Casework service.

The JSON of a case is protobuf's JSON mapping of crs.contacts.v1.Case with the proto's field names; a
client may send only the fields whose rule says `writable` (services/runtime/protoschema.py reads
them from the descriptor).
"""

from __future__ import annotations

from aiohttp import web
from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf import field_mask_pb2, json_format, timestamp_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, check, requires
from services.console.web import BadRequest, context, json_body, principal, render
from services.runtime.protoschema import writable

routes = web.RouteTableDef()
WRITABLE = writable(pb.Case.DESCRIPTOR)
MAX_LIMIT = 200
CODE_KINDS = ("issue", "action", "status")


async def _casework(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.casework, rpc), message, principal(request))


def _case_from(body: dict) -> pb.Case:
    refused = sorted(set(body) - WRITABLE)
    if refused:
        raise BadRequest(f"{', '.join(refused)}: not fields a client may write")
    try:
        return json_format.ParseDict(body, pb.Case())
    except json_format.ParseError as exc:
        raise BadRequest(str(exc)) from None


def _text(body: dict, name: str, limit: int = 2000) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name}: text")
    return value[:limit]


def _whole(query, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}: from {low} to {high}")
    return value


def _case_reply(case: pb.Case, status: int = 200) -> web.Response:
    headers = {"Location": f"/api/contacts/{case.id}"} if status == 201 else None
    return web.json_response(as_json(case), status=status, headers=headers)


# -- the JSON API --


@routes.post("/api/contacts")
@requires("cases.create")
@shapes(body=pb.Case.DESCRIPTOR, reply=pb.Case.DESCRIPTOR)
async def create_case(request: web.Request) -> web.Response:
    """POST a Case's writable fields, and optionally "call_id" to link -> 201 the Case."""
    body = await json_body(request)
    call_id = _text(body, "call_id", 512) if "call_id" in body else ""
    body.pop("call_id", None)
    case = _case_from(body)
    if call_id:
        # The filed call's own contact becomes this case, or, when the call is not filed yet, it is linked.
        case.call_ids.append(call_id)
    return _case_reply(await _casework(request, "CreateCase", pb.CreateCaseRequest(case=case)), 201)


def _personal_subjects(cases) -> list[str]:
    """Whose personal data a search showed: each consumer, and each case whose reporter has none."""
    subjects: dict[str, None] = {}
    for case in cases:
        if case.consumer_id:
            subjects[case.consumer_id] = None
        elif case.reporter.name or case.reporter.email or case.reporter.phone:
            subjects[case.id] = None
    return list(subjects)


@routes.get("/api/contacts")
@requires("cases.search")
@audited("case.search", "consumer_id")
@shapes(reply=pb.SearchCasesResponse.DESCRIPTOR)
async def search_cases(request: web.Request) -> web.Response:
    """GET ?text=&issue_code=&product=&lot_code=&status=&channel=&language=&consumer_id=&reference=
    &reporter_phone=&reporter_name=&from=&to=&escalated_only=&open_only=&limit=&offset= -> {"cases": [Case]}.

    How much a person may ask depends on their role (contacts' domain/access.py): an agent names someone
    or something specific and gets at most 20; an analyst gets cases without personal data. Each consumer
    (or reporter) a search shows is written to the access log."""
    q = request.query
    message = pb.SearchCasesRequest(
        text=q.get("text", "")[:500],
        language=q.get("language", "")[:35],
        issue_code=q.get("issue_code", "")[:200],
        product=q.get("product", "")[:64],
        lot_code=q.get("lot_code", "")[:64],
        status=q.get("status", "")[:64],
        channel=q.get("channel", "")[:16],
        consumer_id=q.get("consumer_id", "")[:64],
        escalated_only=q.get("escalated_only") in ("true", "1"),
        open_only=q.get("open_only") in ("true", "1"),
        reference=_whole(q, "reference", 0, 1, 2**62),
        reporter_phone=q.get("reporter_phone", "")[:40],
        reporter_name=q.get("reporter_name", "")[:200],
        limit=_whole(q, "limit", 0, 1, MAX_LIMIT),
        offset=_whole(q, "offset", 0, 0, 100_000),
    )
    for name in ("from", "to"):
        if q.get(name):
            stamp = timestamp_pb2.Timestamp()
            try:
                stamp.FromJsonString(q[name])
            except ValueError:
                raise BadRequest(f"{name}: a time such as 2026-01-31T00:00:00Z") from None
            getattr(message, name).CopyFrom(stamp)
    reply = await _casework(request, "SearchCases", message)
    who = principal(request)
    await context(request).accounts.record_reads(
        actor=who.username,
        role=who.role,
        action="consumer.read",
        subjects=_personal_subjects(reply.cases),
        address=request.remote or "",
        detail=f"{request.method} {request.path} (search)",
    )
    return web.json_response({"cases": [as_json(c) for c in reply.cases]})


@routes.get("/api/contacts/{id}")
@requires("cases.read")
@audited("case.read", "id")
@shapes(reply=pb.Case.DESCRIPTOR)
async def get_case(request: web.Request) -> web.Response:
    """GET -> the Case."""
    return _case_reply(await _casework(request, "GetCase", pb.GetCaseRequest(id=request.match_info["id"])))


@routes.patch("/api/contacts/{id}")
@requires("cases.update")
@shapes(body=pb.Case.DESCRIPTOR, reply=pb.Case.DESCRIPTOR)
async def update_case(request: web.Request) -> web.Response:
    """PATCH the writable fields to change, and "version" (the one read) -> the Case."""
    body = await json_body(request)
    version = body.pop("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadRequest("version: the version you read, a whole number")
    case = _case_from(body)
    case.id = request.match_info["id"]
    message = pb.UpdateCaseRequest(
        case=case, update_mask=field_mask_pb2.FieldMask(paths=sorted(body)), expected_version=version
    )
    return _case_reply(await _casework(request, "UpdateCase", message))


@routes.post("/api/contacts/{id}/status")
@requires("cases.update")
@shapes(reply=pb.Case.DESCRIPTOR)
async def change_status(request: web.Request) -> web.Response:
    """POST {"status", "note"} -> the Case."""
    body = await json_body(request)
    message = pb.ChangeStatusRequest(
        id=request.match_info["id"], status=_text(body, "status", 64), note=_text(body, "note")
    )
    return _case_reply(await _casework(request, "ChangeStatus", message))


@routes.post("/api/contacts/{id}/escalate")
@requires("cases.escalate")
@shapes(reply=pb.Case.DESCRIPTOR)
async def escalate(request: web.Request) -> web.Response:
    """POST {"reason"} -> the Case, escalated to the supervisors' queue."""
    body = await json_body(request)
    message = pb.EscalateRequest(id=request.match_info["id"], reason=_text(body, "reason"))
    return _case_reply(await _casework(request, "Escalate", message))


@routes.post("/api/contacts/{id}/assign")
@requires("cases.assign")
@shapes(reply=pb.Case.DESCRIPTOR)
async def assign(request: web.Request) -> web.Response:
    """POST {"assignee"} -> the Case. Anyone may take a case; only a supervisor gives one to others."""
    body = await json_body(request)
    assignee = _text(body, "assignee", 64)
    if assignee != principal(request).username:
        check(principal(request), "cases.assign_others", "an agent may take a case, not give it to others")
    message = pb.AssignRequest(id=request.match_info["id"], assignee=assignee)
    return _case_reply(await _casework(request, "Assign", message))


@routes.post("/api/contacts/{id}/actions")
@requires("cases.update")
@shapes(reply=pb.Case.DESCRIPTOR)
async def add_action(request: web.Request) -> web.Response:
    """POST {"action_code", "note"} -> the Case."""
    body = await json_body(request)
    message = pb.AddActionRequest(
        id=request.match_info["id"], action_code=_text(body, "action_code", 200), note=_text(body, "note")
    )
    return _case_reply(await _casework(request, "AddAction", message))


@routes.post("/api/contacts/{id}/calls")
@requires("cases.update")
@shapes(reply=pb.Case.DESCRIPTOR)
async def link_call(request: web.Request) -> web.Response:
    """POST {"call_id"} -> the Case, with the filed call linked."""
    body = await json_body(request)
    message = pb.LinkCallRequest(id=request.match_info["id"], call_id=_text(body, "call_id", 512))
    return _case_reply(await _casework(request, "LinkCall", message))


@routes.get("/api/contacts/{id}/timeline")
@requires("cases.read")
@audited("case.read", "id")
@shapes(reply=pb.Timeline.DESCRIPTOR)
async def timeline(request: web.Request) -> web.Response:
    """GET -> {"contact_id", "events": [CaseEvent]}, oldest first."""
    reply = await _casework(request, "GetTimeline", pb.GetTimelineRequest(id=request.match_info["id"]))
    return web.json_response(as_json(reply))


@routes.get("/api/calls/{call_id}")
@requires("cases.read")
@shapes(reply=pb.FiledCall.DESCRIPTOR)
async def filed_call(request: web.Request) -> web.Response:
    """GET -> the FiledCall: caller, recording key, duration, cases, and the recording's paused spans."""
    call_id = request.match_info["call_id"][:512]
    return web.json_response(as_json(await _casework(request, "GetCall", pb.GetCallRequest(call_id=call_id))))


@routes.get("/api/queue")
@requires("cases.queue")
@shapes(reply=pb.SearchCasesResponse.DESCRIPTOR)
async def queue(request: web.Request) -> web.Response:
    """GET ?limit=&offset=&status= -> {"cases": [Case]}: open escalated cases (in `status`, such as
    awaiting_fulfillment, when named), most urgent first."""
    message = pb.GetQueueRequest(
        limit=_whole(request.query, "limit", 100, 1, MAX_LIMIT),
        offset=_whole(request.query, "offset", 0, 0, 100_000),
        status=request.query.get("status", "")[:64],
    )
    reply = await _casework(request, "GetQueue", message)
    return web.json_response({"cases": [as_json(c) for c in reply.cases]})


@routes.get("/api/early-warning")
@requires("insights.early_warning")
@shapes(reply=pb.EarlyWarning.DESCRIPTOR)
async def early_warning(request: web.Request) -> web.Response:
    """GET ?days=&threshold=&issue_code= -> {"days", "threshold", "issue_code", "clusters": [LotCluster]}."""
    q = request.query
    message = pb.GetEarlyWarningRequest(
        days=_whole(q, "days", 14, 1, 365),
        threshold=_whole(q, "threshold", 3, 2, 100_000),
        issue_code=q.get("issue_code", "")[:200],
    )
    return web.json_response(as_json(await _casework(request, "GetEarlyWarning", message)))


@routes.get(r"/api/codes/{kind:issue|action|status}")
@requires("codes.read")
@shapes(reply=pb.ListCodesResponse.DESCRIPTOR)
async def list_codes(request: web.Request) -> web.Response:
    """GET ?include_inactive= -> {"codes": [Code]}."""
    message = pb.ListCodesRequest(
        kind=request.match_info["kind"],
        include_inactive=request.query.get("include_inactive") in ("true", "1"),
    )
    return web.json_response(as_json(await _casework(request, "ListCodes", message)))


@routes.put(r"/api/codes/{kind:issue|action|status}/{code}")
@requires("codes.write")
@shapes(body=pb.Code.DESCRIPTOR, reply=pb.Code.DESCRIPTOR)
async def put_code(request: web.Request) -> web.Response:
    """PUT a Code's fields -> the Code as stored."""
    body = await json_body(request)
    body.update(kind=request.match_info["kind"], code=request.match_info["code"])
    try:
        code = json_format.ParseDict(body, pb.Code())
    except json_format.ParseError as exc:
        raise BadRequest(str(exc)) from None
    return web.json_response(as_json(await _casework(request, "PutCode", pb.PutCodeRequest(code=code))))


# -- the pages: each a template the casework script fills from the API above --


def _page(name: str, permission: str):
    @requires(permission)
    async def page(request: web.Request) -> web.Response:
        return render(request, f"cases/{name}.html")

    page.__name__ = f"{name}_page"
    return page


routes.get("/cases/")(_page("index", "cases.read"))
routes.get("/cases/new")(_page("new", "cases.create"))
routes.get("/cases/view")(_page("case", "cases.read"))
routes.get("/cases/queue")(_page("queue", "cases.queue"))
routes.get("/cases/search")(_page("search", "cases.search"))
routes.get("/cases/early-warning")(_page("early_warning", "insights.early_warning"))
