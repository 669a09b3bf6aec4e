"""The Inbox gRPC API: protobuf in, an inbox use case or view, protobuf out. No SQL, no rules here.

Who is acting is the caller's principal; every method needs one (the inbox is always someone's). A
person's team comes from the principal; their skills and their team's agents come in the request, as the
console keeps them with the accounts.
"""

from __future__ import annotations

from datetime import UTC

from crs.contacts.v1 import inbox_pb2 as pb
from crs.contacts.v1 import inbox_pb2_grpc
from google.protobuf import json_format

from services.contacts.casework.domain import fields
from services.contacts.casework.domain import inbox as inbox_rules
from services.contacts.casework.entrypoints.grpc import _actor, change
from services.contacts.casework.exceptions import Forbidden, InvalidInput
from services.contacts.casework.inbox_service import Inbox
from services.contacts.casework.inbox_views import InboxViews
from services.contacts.casework.shape import case_pb, claim_pb, follow_up_pb
from services.runtime import permissions

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Inbox"].full_name
MAX_AGENTS = 500
# How many follow-ups an inbox shows beside its cases.
FOLLOW_UPS_SHOWN = 200


def _whole_limit(value: int) -> int:
    if not value:
        return 100
    if not 1 <= value <= 200:
        raise InvalidInput("limit: from 1 to 200")
    return value


def _agents(given) -> list[str]:
    agents = list(dict.fromkeys(given))
    if len(agents) > MAX_AGENTS:
        raise InvalidInput(f"agents: at most {MAX_AGENTS}")
    return agents


def _rule_pb(rule: inbox_rules.InboxRule) -> pb.InboxRule:
    return pb.InboxRule(**rule.__dict__)


class InboxServicer(inbox_pb2_grpc.InboxServicer):
    def __init__(self, *, inbox: Inbox, views: InboxViews):
        self.inbox = inbox
        self.views = views

    async def _follow_ups(self, pairs) -> list[pb.FollowUp]:
        return [follow_up_pb(follow_up, reference=reference) for follow_up, reference in pairs]

    @change()
    async def GetInbox(self, request: pb.GetInboxRequest, who) -> pb.InboxPage:
        scope = request.scope or "mine"
        if scope not in ("mine", "team"):
            raise InvalidInput("scope: mine or team")
        if scope == "team" and not permissions.allowed(who.role, "inbox.team"):
            raise Forbidden("only a supervisor sees a team's inbox")
        if request.channel and request.channel not in self.inbox.channels:
            raise InvalidInput(f"channel: one of {', '.join(self.inbox.channels)}, or empty for all")
        agents = _agents(request.agents) if scope == "team" else [who.username]
        now = self.inbox.clock()
        items = await self.views.inbox(
            scope=scope,
            username=who.username,
            team=who.team,
            skills=inbox_rules.skills_of(request.skills),
            agents=agents,
            channel=request.channel,
            open_statuses=await self.inbox.open_statuses(),
            now=now,
            limit=_whole_limit(request.limit),
        )
        book = await self.inbox.codes.get()
        follow_ups = await self.views.open_follow_ups(agents, limit=FOLLOW_UPS_SHOWN)
        page = pb.InboxPage(follow_ups=await self._follow_ups(follow_ups))
        page.reminders.extend(f for f in page.follow_ups if f.HasField("reminded_at"))
        for item in items:
            shown = page.items.add(
                case=case_pb(item.case, book),
                routed_by=item.routed_by,
                team=item.team,
                skill=item.skill,
                open_follow_ups=item.open_follow_ups,
            )
            if item.due_at is not None:
                shown.due_at.FromDatetime(item.due_at)
            if item.claim is not None:
                shown.claim.CopyFrom(claim_pb(item.claim))
        return page

    @change()
    async def ClaimCase(self, request: pb.ClaimCaseRequest, who) -> pb.CaseClaim:
        claim = await self.inbox.claim(case_id=request.case_id, actor=_actor(who), minutes=request.minutes)
        return claim_pb(claim)

    @change()
    async def ReleaseCase(self, request: pb.ReleaseCaseRequest, who) -> pb.CaseClaim:
        released = await self.inbox.release(
            case_id=request.case_id,
            actor=_actor(who),
            may_release_others=permissions.allowed(who.role, "inbox.release_others"),
        )
        return claim_pb(None, released.case_id)

    @change()
    async def AddFollowUp(self, request: pb.AddFollowUpRequest, who) -> pb.FollowUp:
        follow_up = await self.inbox.add_follow_up(
            case_id=request.case_id,
            assignee=request.assignee,
            text=request.text,
            due_at=request.due_at.ToDatetime(tzinfo=UTC) if request.HasField("due_at") else None,
            actor=_actor(who),
        )
        references = await self.views.references([follow_up.case_id])
        return follow_up_pb(follow_up, reference=references.get(follow_up.case_id, 0))

    @change()
    async def ListFollowUps(self, request: pb.ListFollowUpsRequest, who) -> pb.FollowUps:
        if request.case_id:
            case_id = fields.an_id(request.case_id, "case_id")
            found = await self.views.follow_ups_of_case(case_id, include_closed=request.include_closed)
            return pb.FollowUps(follow_ups=[follow_up_pb(f) for f in found])
        assignee = request.assignee or who.username
        if assignee != who.username and not permissions.allowed(who.role, "inbox.team"):
            raise Forbidden("an agent lists their own follow-ups")
        return pb.FollowUps(follow_ups=await self._follow_ups(await self.views.open_follow_ups([assignee])))

    @change()
    async def CloseFollowUp(self, request: pb.CloseFollowUpRequest, who) -> pb.FollowUp:
        closed = await self.inbox.close_follow_up(
            follow_up_id=request.id, state=request.state, actor=_actor(who)
        )
        return follow_up_pb(closed)

    @change()
    async def GetWorkload(self, request: pb.GetWorkloadRequest, who) -> pb.Workload:
        if not permissions.allowed(who.role, "inbox.team"):
            raise Forbidden("only a supervisor sees a team's workload")
        agents = _agents(request.agents)
        now = self.inbox.clock()
        statuses = await self.inbox.open_statuses()
        found = await self.views.load_of(agents, open_statuses=statuses, now=now)
        loads = inbox_rules.workload(
            agents,
            cases=[(row.pop("assignee"), inbox_rules.due_of(**row)) for row in found["cases"]],
            follow_ups=[(row["assignee"], row["due_at"]) for row in found["follow_ups"]],
            claimed=found["claims"],
            now=now,
        )
        return pb.Workload(
            agents=[pb.AgentLoad(**load.__dict__) for load in loads],
            unassigned=await self.views.unassigned(team=who.team, open_statuses=statuses, now=now),
        )

    @change()
    async def ListInboxRules(self, request: pb.ListInboxRulesRequest, who) -> pb.InboxRules:
        return pb.InboxRules(rules=[_rule_pb(rule) for rule in await self.views.rules()])

    @change()
    async def PutInboxRule(self, request: pb.InboxRule, who) -> pb.InboxRule:
        given = json_format.MessageToDict(request, preserving_proto_field_name=True)
        given.update(position=request.position, active=request.active)
        return _rule_pb(await self.inbox.put_rule(given, actor=_actor(who)))
