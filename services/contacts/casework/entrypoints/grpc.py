"""The Casework gRPC API: protobuf in, a use case or a view, protobuf out. No SQL, no rules here.

Each method names what it needs in its decorator: `@read`, or `@change` with the roles allowed (any role
when none are named). The actor of a change is the caller's principal, from the call's metadata; a change
without a valid one is refused with UNAUTHENTICATED. Every casework error ends the call with its status.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC

import grpc
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from services.contacts.casework import views
from services.contacts.casework.domain import access
from services.contacts.casework.domain import codes as code_tables
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.exceptions import CaseworkError, Forbidden, InvalidInput, Unauthenticated
from services.contacts.casework.regulatory_service import Regulatory
from services.contacts.casework.service import Casework
from services.contacts.casework.shape import case_pb, clock_pb
from services.runtime import permissions
from services.runtime import principal as principals

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Casework"].full_name
SUPERVISORS = ("supervisor", "admin")
# Who may give a case to someone else, or put it back in its queue (anyone may take a case for themselves).
ASSIGNERS = ("supervisor", "admin", "service")


def _end_with_status(method):
    @functools.wraps(method)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await method(self, request, context)
        except CaseworkError as exc:
            await context.abort(grpc.StatusCode[exc.status], str(exc))

    return wrapper


def read(method):
    """A read: any caller."""
    return _end_with_status(method)


def change(*roles: str):
    """A change: the caller's principal is required (and, when roles are named, one of them)."""

    def decorate(method):
        @functools.wraps(method)
        async def with_principal(self, request, context):
            who = principals.from_metadata(context.invocation_metadata())
            if who is None:
                raise Unauthenticated(
                    "who is acting? a change needs the caller's principal in the call's metadata"
                    f" ({principals.USER_KEY}, {principals.ROLE_KEY})"
                )
            if roles and who.role not in roles:
                raise Forbidden(f"only a {' or '.join(roles)} may do this")
            return await method(self, request, who)

        return _end_with_status(with_principal)

    return decorate


def _actor(who: principals.Principal | None) -> access.Actor:
    """Who casework's rules see: the person, or (no principal) the service that called on its own account."""
    if who is None:
        return access.Actor(username="service")
    return access.Actor(
        username=who.username,
        role=who.role,
        extension=who.extension,
        team=who.team,
        team_extensions=who.team_extensions,
    )


def _caller(context) -> access.Actor:
    return _actor(principals.from_metadata(context.invocation_metadata()))


def _as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _stamp(value) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _code_pb(kind: str, row: dict, book: CodeBook) -> pb.Code:
    return pb.Code(
        kind=kind,
        code=row["code"],
        label=row["label"],
        parent=row.get("parent") or "",
        path=book.path(row["code"]) if kind == "issue" else "",
        severity=row.get("severity") or "",
        auto_escalate=bool(row.get("auto_escalate")),
        is_response=bool(row.get("is_response")),
        stage=row.get("stage") or "",
        active=row["active"],
        position=row["position"],
    )


class CaseworkServicer(casework_pb2_grpc.CaseworkServicer):
    def __init__(self, *, casework: Casework, views: views.CaseViews, regulatory: Regulatory | None = None):
        self.casework = casework
        self.views = views
        self.regulatory = regulatory

    async def _with_clocks(self, cases, messages: list[pb.Case]) -> list[pb.Case]:
        """Each health-and-safety case with its reporting clock, as it stands now."""
        if self.regulatory is not None:
            clocks = await self.regulatory.clocks(list(cases))
            now = self.regulatory.clock()
            for message in messages:
                if message.id in clocks:
                    message.regulatory_clock.CopyFrom(clock_pb(clocks[message.id], now))
        return messages

    async def shown(self, case) -> pb.Case:
        return (await self._with_clocks([case], [case_pb(case, await self.casework.codes.get())]))[0]

    async def _listed(self, cases) -> pb.SearchCasesResponse:
        book = await self.casework.codes.get()
        return pb.SearchCasesResponse(cases=await self._with_clocks(cases, [case_pb(c, book) for c in cases]))

    @change()
    async def CreateCase(self, request: pb.CreateCaseRequest, who) -> pb.Case:
        data = _as_dict(request.case)
        call_ids = data.pop("call_ids", [])
        if len(call_ids) > 1:
            raise InvalidInput("case.call_ids: a new case takes at most the one call it was captured on")
        case = await self.casework.create(data=data, actor=_actor(who), call_id=(call_ids or [None])[0])
        return await self.shown(case)

    @read
    async def GetCase(self, request: pb.GetCaseRequest, context) -> pb.Case:
        return await self.shown(await self.views.case(request.id))

    @change()
    async def UpdateCase(self, request: pb.UpdateCaseRequest, who) -> pb.Case:
        data = _as_dict(request.case)
        named = {path.split(".")[0] for path in request.update_mask.paths}
        case = await self.casework.update(
            case_id=request.case.id,
            data={name: data.get(name) for name in named},
            fields_named=named,
            actor=_actor(who),
            expected_version=request.expected_version or None,
        )
        return await self.shown(case)

    @change()
    async def ChangeStatus(self, request: pb.ChangeStatusRequest, who) -> pb.Case:
        case = await self.casework.change_status(
            case_id=request.id,
            status=request.status,
            note=request.note,
            actor=_actor(who),
            may_close_escalated=permissions.allowed(who.role, "cases.close_escalated"),
            may_resolve_waiting=permissions.allowed(who.role, "cases.resolve_awaiting_fulfillment"),
        )
        return await self.shown(case)

    @change()
    async def Escalate(self, request: pb.EscalateRequest, who) -> pb.Case:
        case = await self.casework.escalate(case_id=request.id, reason=request.reason, actor=_actor(who))
        return await self.shown(case)

    @change()
    async def Assign(self, request: pb.AssignRequest, who) -> pb.Case:
        if request.assignee != who.username and who.role not in ASSIGNERS:
            raise Forbidden("an agent may take a case, not give it to others or put it back")
        case = await self.casework.assign(case_id=request.id, assignee=request.assignee, actor=_actor(who))
        return await self.shown(case)

    @change()
    async def AddAction(self, request: pb.AddActionRequest, who) -> pb.Case:
        case = await self.casework.add_action(
            case_id=request.id, action_code=request.action_code, note=request.note, actor=_actor(who)
        )
        return await self.shown(case)

    @change()
    async def LinkCall(self, request: pb.LinkCallRequest, who) -> pb.Case:
        case = await self.casework.link_call(case_id=request.id, call_id=request.call_id, actor=_actor(who))
        return await self.shown(case)

    @read
    async def GetTimeline(self, request: pb.GetTimelineRequest, context) -> pb.Timeline:
        timeline = pb.Timeline(contact_id=request.id)
        for event in await self.views.timeline(request.id):
            item = timeline.events.add(
                id=event.id,
                actor=event.actor,
                kind=event.kind,
                note=event.note,
                occurred_at=_stamp(event.occurred_at),
                call_id=event.call_id,
            )
            for name, change_ in event.changes.items():
                item.changes.add(
                    field=name,
                    before=json.dumps(change_.get("before"), ensure_ascii=False),
                    after=json.dumps(change_.get("after"), ensure_ascii=False),
                )
        return timeline

    @read
    async def SearchCases(self, request: pb.SearchCasesRequest, context) -> pb.SearchCasesResponse:
        start = getattr(request, "from")
        query = views.Query(
            text=request.text,
            language=request.language,
            issue_code=request.issue_code,
            product=request.product,
            lot_code=request.lot_code,
            status=request.status,
            channel=request.channel,
            start=start.ToDatetime(tzinfo=UTC) if request.HasField("from") else None,
            end=request.to.ToDatetime(tzinfo=UTC) if request.HasField("to") else None,
            consumer_id=request.consumer_id,
            escalated_only=request.escalated_only,
            open_only=request.open_only,
            limit=request.limit,
            offset=request.offset,
            reference=request.reference,
            reporter_phone=request.reporter_phone,
            reporter_name=request.reporter_name,
        )
        who = _caller(context)
        found = await self.views.search(
            access.search_scope(query, actor=who), await self.casework.codes.get()
        )
        return await self._listed(access.shown(found, actor=who))

    @read
    async def GetQueue(self, request: pb.GetQueueRequest, context) -> pb.SearchCasesResponse:
        book = await self.casework.codes.get()
        found = await self.views.queue(
            book, limit=request.limit, offset=request.offset, status=request.status
        )
        return await self._listed(found)

    @read
    async def GetRecallQueue(self, request: pb.GetRecallQueueRequest, context) -> pb.SearchCasesResponse:
        book = await self.casework.codes.get()
        found = await self.views.recall_queue(
            book, recall_id=request.recall_id, limit=request.limit, offset=request.offset
        )
        return await self._listed(found)

    @read
    async def GetEarlyWarning(self, request: pb.GetEarlyWarningRequest, context) -> pb.EarlyWarning:
        days = views.whole(request.days, "days", 14, 1, 365)
        threshold = views.whole(request.threshold, "threshold", 3, 2, 100_000)
        prefix = request.issue_code or "complaint"
        (await self.casework.codes.get()).issue(prefix, for_new=False)
        clusters = await self.views.early_warning(days=days, threshold=threshold, issue_prefix=prefix)
        return pb.EarlyWarning(
            days=days,
            threshold=threshold,
            issue_code=prefix,
            clusters=[
                pb.LotCluster(
                    product_sku=c.product_sku,
                    lot_code=c.lot_code,
                    contacts=c.contacts,
                    first_at=_stamp(c.first_at),
                    last_at=_stamp(c.last_at),
                    issue_codes=c.issue_codes,
                )
                for c in clusters
            ],
        )

    @read
    async def ListCodes(self, request: pb.ListCodesRequest, context) -> pb.ListCodesResponse:
        if request.kind and request.kind not in code_tables.KINDS:
            raise InvalidInput(f"kind: one of {', '.join(code_tables.KINDS)}, or empty for all")
        book = await self.casework.codes.get()
        tables = {"issue": book.issues, "action": book.actions, "status": book.statuses}
        return pb.ListCodesResponse(
            codes=[
                _code_pb(kind, row, book)
                for kind in ([request.kind] if request.kind else code_tables.KINDS)
                for row in tables[kind].values()
                if request.include_inactive or row["active"]
            ]
        )

    @change(*SUPERVISORS)
    async def PutCode(self, request: pb.PutCodeRequest, who) -> pb.Code:
        given = request.code
        row = await self.casework.put_code(given.kind, _as_dict(given) | {"active": given.active})
        return _code_pb(given.kind, row, await self.casework.codes.get())

    @read
    async def GetCall(self, request: pb.GetCallRequest, context) -> pb.FiledCall:
        call = await self.views.filed_call(request.call_id)
        if request.for_playback:
            access.check_playback(actor=_caller(context), call_extension=call.extension)
        return pb.FiledCall(
            call_id=call.call_id,
            consumer_id=call.consumer_id or "",
            caller_number=call.caller_number,
            recording_key=call.recording_key or "",
            duration_seconds=call.duration_seconds or 0.0,
            started_at=_stamp(call.started_at),
            ended_at=_stamp(call.ended_at),
            case_ids=call.case_ids,
            extension=call.extension,
            paused=[
                pb.RecordingPause(
                    start_seconds=span.start_seconds,
                    end_seconds=span.end_seconds,
                    paused_by=span.paused_by,
                    resumed_by=span.resumed_by,
                    paused_at=_stamp(span.paused_at),
                    resumed_at=_stamp(span.resumed_at),
                )
                for span in call.paused
            ],
        )
