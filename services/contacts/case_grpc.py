"""The Casework gRPC API: protobuf in, casework calls, protobuf out. No SQL here."""

from __future__ import annotations

import json

import grpc
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc
from google.protobuf import json_format

from services.contacts import case_input, search
from services.contacts.casework import Casework, Conflict, NotFound, present, to_pb
from services.contacts.validation import ValidationError
from services.runtime.grpcio import errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Casework"].full_name


_status = errors_to_status(
    {
        ValidationError: grpc.StatusCode.INVALID_ARGUMENT,
        NotFound: grpc.StatusCode.NOT_FOUND,
        Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    }
)


def _as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _actor(value: str) -> str:
    return case_input.actor(value, "service")


class CaseworkServicer(casework_pb2_grpc.CaseworkServicer):
    def __init__(self, *, casework: Casework):
        self.casework = casework

    @_status
    async def CreateCase(self, request: pb.CreateCaseRequest, context) -> pb.Case:
        data = _as_dict(request.case)
        call_id = (data.pop("call_ids", None) or [None])[0]
        case = await self.casework.create(data=data, actor=_actor(request.actor), call_id=call_id)
        return to_pb(case)

    @_status
    async def GetCase(self, request: pb.GetCaseRequest, context) -> pb.Case:
        return to_pb(await self.casework.get(contact_id=request.id))

    @_status
    async def UpdateCase(self, request: pb.UpdateCaseRequest, context) -> pb.Case:
        data = _as_dict(request.case)
        fields = {path.split(".")[0] for path in request.update_mask.paths}
        for name in fields:
            data.setdefault(name, None)
        case = await self.casework.update(
            contact_id=request.case.id,
            data=data,
            fields=fields,
            actor=_actor(request.actor),
            expected_version=request.expected_version or None,
        )
        return to_pb(case)

    @_status
    async def ChangeStatus(self, request: pb.ChangeStatusRequest, context) -> pb.Case:
        return to_pb(
            await self.casework.change_status(
                contact_id=request.id, status=request.status, note=request.note, actor=_actor(request.actor)
            )
        )

    @_status
    async def Escalate(self, request: pb.EscalateRequest, context) -> pb.Case:
        return to_pb(
            await self.casework.escalate(
                contact_id=request.id, reason=request.reason, actor=_actor(request.actor)
            )
        )

    @_status
    async def Assign(self, request: pb.AssignRequest, context) -> pb.Case:
        return to_pb(
            await self.casework.assign(
                contact_id=request.id, assignee=request.assignee, actor=_actor(request.actor)
            )
        )

    @_status
    async def AddAction(self, request: pb.AddActionRequest, context) -> pb.Case:
        return to_pb(
            await self.casework.add_action(
                contact_id=request.id,
                action_code=request.action_code,
                note=request.note,
                actor=_actor(request.actor),
            )
        )

    @_status
    async def LinkCall(self, request: pb.LinkCallRequest, context) -> pb.Case:
        return to_pb(
            await self.casework.link_call(
                contact_id=request.id, call_id=request.call_id, actor=_actor(request.actor)
            )
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
            "limit": request.limit or None,
            "offset": request.offset or None,
        }
        if request.HasField("from"):
            query["from"] = getattr(request, "from").ToJsonString()
        if request.HasField("to"):
            query["to"] = request.to.ToJsonString()
        book = await self.casework.codes.get()
        rows = await search.search(store=self.casework.store, book=book, query=query)
        return pb.SearchCasesResponse(cases=[to_pb(present(r, book)) for r in rows])
