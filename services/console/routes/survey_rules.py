"""Survey rules in the console: the rules that send CSAT, NPS and poll surveys, one form to add or change
one (a poll's questions typed one a line: `key | English text | low-high`), and retiring one. Each route is
a call to outreach, which owns the rules and says what is wrong with one it cannot save."""

from __future__ import annotations

from urllib.parse import urlencode

import grpc
from aiohttp import web
from crs.outreach.v1 import surveys_pb2 as pb

from services.console.clients import as_json
from services.console.permissions import allowed, requires
from services.console.web import context, error_text, principal, render

routes = web.RouteTableDef()
MAX_FIELD = 20_000
KINDS = ("csat", "nps", "poll")
FORM_FIELDS = ("id", "name", "kind", "issue_prefix", "delay_minutes", "suppress_days", "questions")


async def _rules(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.survey_rules, rpc), message, principal(request))


def _field(form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FIELD]


def _whole(text: str) -> int:
    """A typed whole number; anything else is -1, which outreach refuses naming the field."""
    return int(text) if text.isdigit() and len(text) <= 6 else -1


def _question(line: str) -> pb.PollQuestion:
    key, _, rest = (part.strip() for part in line.partition("|"))
    text, _, scale = (part.strip() for part in rest.rpartition("|")) if rest.count("|") else (rest, "", "1-5")
    low, _, high = scale.partition("-")
    return pb.PollQuestion(key=key, text={"en": text}, low=_whole(low.strip()), high=_whole(high.strip()))


def rule_request(form) -> pb.SurveyRule:
    return pb.SurveyRule(
        id=_field(form, "id"),
        name=_field(form, "name"),
        trigger="contact_resolved",
        kind=_field(form, "kind"),
        issue_prefix=_field(form, "issue_prefix"),
        delay_minutes=_whole(_field(form, "delay_minutes")),
        suppress_days=_whole(_field(form, "suppress_days")),
        questions=[_question(line) for line in _field(form, "questions").splitlines() if line.strip()],
        enabled=True,
    )


def given_of(rule: dict) -> dict[str, str]:
    """A rule (as_json) as the form shows it."""
    lines = [
        f"{q['key']} | {q['text'].get('en', '')} | {q['low']}-{q['high']}" for q in rule.get("questions", [])
    ]
    shown = {name: str(rule.get(name, "")) for name in FORM_FIELDS if name != "questions"}
    return {**shown, "questions": "\n".join(lines)}


async def _page(request: web.Request, *, status: int = 200, error: str = "", given=None) -> web.Response:
    reply = await _rules(request, "ListSurveyRules", pb.ListSurveyRulesRequest())
    rules = [as_json(r) for r in reply.rules]
    editing = request.query.get("edit", "")[:60]
    if given is None:
        chosen = next((r for r in rules if r["id"] == editing), None)
        given = given_of(chosen) if chosen else {**dict.fromkeys(FORM_FIELDS, ""), "kind": "csat",
                                                 "delay_minutes": "2880", "suppress_days": "30"}  # fmt: skip
    return render(
        request,
        "outreach/survey_rules.html",
        status=status,
        rules=rules,
        given=given,
        kinds=KINDS,
        error=error,
        editing=editing,
        may_manage=allowed(principal(request), "surveys.manage"),
    )


@routes.get("/survey-rules")
@requires("surveys.read")
async def list_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/survey-rules")
@requires("surveys.manage")
async def save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        await _rules(request, "SaveSurveyRule", rule_request(form))
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        given = {name: _field(form, name) for name in FORM_FIELDS}
        return await _page(request, status=400, error=error_text(exc), given=given)
    raise web.HTTPSeeOther("/survey-rules")


@routes.post("/survey-rules/{id}/retire")
@requires("surveys.manage")
async def retire(request: web.Request) -> web.StreamResponse:
    rule_id = request.match_info["id"][:60]
    try:
        await _rules(request, "RetireSurveyRule", pb.RetireSurveyRuleRequest(id=rule_id))
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
        raise web.HTTPSeeOther(f"/survey-rules?{urlencode({'error': error_text(exc)})}") from None
    raise web.HTTPSeeOther("/survey-rules")
