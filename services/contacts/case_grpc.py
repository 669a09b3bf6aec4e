"""The Casework gRPC API: protobuf in, casework calls, protobuf out. No SQL here.

The actor of every change is the caller's principal, from the call's metadata; a change without one is
refused.
"""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc
from google.protobuf import json_format

from services.contacts import codes as code_tables
from services.contacts import search
from services.contacts.casework import (
    Casework,
    Conflict,
    NotFound,
    StaleVersion,
    _iso,
    present,
    to_pb,
)
from services.contacts.validation import ValidationError
from services.runtime import principal as principals
from services.runtime.grpcio import errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Casework"].full_name
CODE_EDITORS = ("supervisor", "admin")
ASSIGNERS = ("supervisor", "admin", "service")


class Unauthenticated(PermissionError):
    pass


class Forbidden(PermissionError):
    pass


_status = errors_to_status(
    {
        ValidationError: grpc.StatusCode.INVALID_ARGUMENT,
        NotFound: grpc.StatusCode.NOT_FOUND,
        StaleVersion: grpc.StatusCode.ABORTED,
        Conflict: grpc.StatusCode.FAILED_PRECONDITION,
        Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
        Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    }
)


def _as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _principal(context) -> principals.Principal:
    found = principals.from_metadata(context.invocation_metadata())
    if found is None:
        raise Unauthenticated(
            "who is acting? a change needs the caller's principal in the call's metadata"
            f" ({principals.USER_KEY}, {principals.ROLE_KEY})"
        )
    return found


def _code_pb(kind: str, row: dict, book: code_tables.CodeBook) -> pb.Code:
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


def _whole(value: int, name: str, default: int, low: int, high: int) -> int:
    if value == 0:
        return default
    if not low <= value <= high:
        raise ValidationError(f"{name}: between {low} and {high}")
    return value


class CaseworkServicer(casework_pb2_grpc.CaseworkServicer):
    def __init__(self, *, casework: Casework):
        self.casework = casework

    @_status
    async def CreateCase(self, request: pb.CreateCaseRequest, context) -> pb.Case:
        actor = _principal(context).username
        data = _as_dict(request.case)
        call_id = (data.pop("call_ids", None) or [None])[0]
        case = await self.casework.create(data=data, actor=actor, call_id=call_id)
        return to_pb(case)

    @_status
    async def GetCase(self, request: pb.GetCaseRequest, context) -> pb.Case:
        return to_pb(await self.casework.get(contact_id=request.id))

    @_status
    async def UpdateCase(self, request: pb.UpdateCaseRequest, context) -> pb.Case:
        actor = _principal(context).username
        data = _as_dict(request.case)
        fields = {path.split(".")[0] for path in request.update_mask.paths}
        for name in fields:
            data.setdefault(name, None)
        case = await self.casework.update(
            contact_id=request.case.id,
            data=data,
            fields=fields,
            actor=actor,
            expected_version=request.expected_version or None,
        )
        return to_pb(case)

    @_status
    async def ChangeStatus(self, request: pb.ChangeStatusRequest, context) -> pb.Case:
        actor = _principal(context).username
        return to_pb(
            await self.casework.change_status(
                contact_id=request.id, status=request.status, note=request.note, actor=actor
            )
        )

    @_status
    async def Escalate(self, request: pb.EscalateRequest, context) -> pb.Case:
        actor = _principal(context).username
        return to_pb(await self.casework.escalate(contact_id=request.id, reason=request.reason, actor=actor))

    @_status
    async def Assign(self, request: pb.AssignRequest, context) -> pb.Case:
        who = _principal(context)
        if request.assignee != who.username and who.role not in ASSIGNERS:
            raise Forbidden("an agent may take a case, not give it to others or put it back")
        return to_pb(
            await self.casework.assign(contact_id=request.id, assignee=request.assignee, actor=who.username)
        )

    @_status
    async def AddAction(self, request: pb.AddActionRequest, context) -> pb.Case:
        actor = _principal(context).username
        return to_pb(
            await self.casework.add_action(
                contact_id=request.id, action_code=request.action_code, note=request.note, actor=actor
            )
        )

    @_status
    async def LinkCall(self, request: pb.LinkCallRequest, context) -> pb.Case:
        actor = _principal(context).username
        return to_pb(
            await self.casework.link_call(contact_id=request.id, call_id=request.call_id, actor=actor)
        )

    @_status
    async def GetTimeline(self, request: pb.GetTimelineRequest, context) -> pb.Timeline:
        events = await self.casework.timeline(contact_id=request.id)
        timeline = pb.Timeline(contact_id=request.id)
        for event in events:
            item = timeline.events.add(
                id=event["id"], actor=event["actor"], kind=event["kind"], note=event["note"]
            )
            item.occurred_at.FromJsonString(event["occurred_at"])
            for name, change in event["changes"].items():
                item.changes.add(
                    field=name,
                    before=json.dumps(change.get("before"), ensure_ascii=False),
                    after=json.dumps(change.get("after"), ensure_ascii=False),
                )
        return timeline

    async def _found(self, query: dict, order: str | None = None) -> pb.SearchCasesResponse:
        book = await self.casework.codes.get()
        rows = await search.search(store=self.casework.store, book=book, query=query, order=order)
        return pb.SearchCasesResponse(cases=[to_pb(present(r, book)) for r in rows])

    @_status
    async def SearchCases(self, request: pb.SearchCasesRequest, context) -> pb.SearchCasesResponse:
        query = {
            "text": request.text,
            "language": request.language,
            "issue_code": request.issue_code,
            "product": request.product,
            "lot_code": request.lot_code,
            "status": request.status,
            "channel": request.channel,
            "consumer_id": request.consumer_id,
            "escalated_only": request.escalated_only,
            "open_only": request.open_only,
            "limit": request.limit or None,
            "offset": request.offset or None,
        }
        if request.HasField("from"):
            query["from"] = getattr(request, "from").ToJsonString()
        if request.HasField("to"):
            query["to"] = request.to.ToJsonString()
        return await self._found(query)

    @_status
    async def GetQueue(self, request: pb.GetQueueRequest, context) -> pb.SearchCasesResponse:
        query = {
            "escalated_only": True,
            "open_only": True,
            "limit": request.limit or None,
            "offset": request.offset or None,
        }
        return await self._found(query, order=search.URGENT_FIRST)

    @_status
    async def GetEarlyWarning(self, request: pb.GetEarlyWarningRequest, context) -> pb.EarlyWarning:
        days = _whole(request.days, "days", 14, 1, 365)
        threshold = _whole(request.threshold, "threshold", 3, 2, 100_000)
        prefix = request.issue_code or "complaint"
        (await self.casework.codes.get()).issue(prefix, for_new=False)
        rows = await self.casework.store.lot_clusters(days=days, threshold=threshold, issue_prefix=prefix)
        warning = pb.EarlyWarning(days=days, threshold=threshold, issue_code=prefix)
        for row in rows:
            cluster = warning.clusters.add(
                product_sku=row["product_sku"],
                lot_code=row["lot_code"],
                contacts=row["contacts"],
                issue_codes=sorted(row["issue_codes"]),
            )
            cluster.first_at.FromDatetime(row["first_at"])
            cluster.last_at.FromDatetime(row["last_at"])
        return warning

    @_status
    async def ListCodes(self, request: pb.ListCodesRequest, context) -> pb.ListCodesResponse:
        if request.kind and request.kind not in code_tables.KINDS:
            raise ValidationError(f"kind: one of {', '.join(code_tables.KINDS)}, or empty for all")
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

    @_status
    async def PutCode(self, request: pb.PutCodeRequest, context) -> pb.Code:
        who = _principal(context)
        if who.role not in CODE_EDITORS:
            raise Forbidden("only a supervisor or an admin may change the code tables")
        given = request.code
        row = code_tables.clean_code(given.kind, _as_dict(given) | {"active": given.active})
        book = await self.casework.codes.get()
        if given.kind == "issue" and row["parent"] and row["parent"] not in book.issues:
            raise ValidationError(f"code: its parent {row['parent']!r} does not exist; add the parent first")
        await self.casework.store.upsert_codes(given.kind, [row])
        self.casework.codes.invalidate()
        return _code_pb(given.kind, row, await self.casework.codes.get())

    @_status
    async def GetCall(self, request: pb.GetCallRequest, context) -> pb.FiledCall:
        row = await self.casework.store.filed_call(request.call_id) if request.call_id else None
        if row is None:
            raise NotFound(f"no filed call {request.call_id[:200]!r}")
        call = pb.FiledCall(
            call_id=row["call_id"],
            consumer_id=row["consumer_id"] or "",
            caller_number=row["caller_number"],
            recording_key=row["recording_key"] or "",
            duration_seconds=row["duration_seconds"] or 0.0,
            case_ids=row["case_ids"],
        )
        call.started_at.FromJsonString(_iso(row["occurred_at"]))
        if row["duration_seconds"] is not None:
            call.ended_at.FromDatetime(row["occurred_at"] + timedelta(seconds=row["duration_seconds"]))
        return call
