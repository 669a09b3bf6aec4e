"""The Segments gRPC service: saved segments and their size before sending. No SQL here.

Permissions are checked by the server from the one table (services/runtime/permissions.py).
"""

from __future__ import annotations

import uuid

import grpc
from crs.outreach.v1 import segments_pb2 as pb
from crs.outreach.v1 import segments_pb2_grpc

from services.outreach.segments import Definition
from services.outreach.segments_store import Segment, SegmentNameTaken, SegmentNotFound, SegmentStore
from services.runtime.grpcio import Servicer, authenticated_principal, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Segments"].full_name
ERRORS = errors_to_status(
    {
        # A taken name is a ValueError too, so it is named first.
        SegmentNameTaken: grpc.StatusCode.ALREADY_EXISTS,
        ValueError: grpc.StatusCode.INVALID_ARGUMENT,
        SegmentNotFound: grpc.StatusCode.NOT_FOUND,
    }
)


def definition_of(message: pb.SegmentDefinition) -> Definition:
    """The wire's definition as segments.Definition reads it; raises segments.InvalidSegment naming the field."""
    return Definition.parse(
        {
            "attributes": dict(message.attributes),
            "bought_skus": list(message.bought_skus),
            "contacted_issue_codes": list(message.contacted_issue_codes),
            "regions": list(message.regions),
            "languages": list(message.languages),
            "consent": message.consent or "marketing",
        }
    )


def definition_message(definition: Definition) -> pb.SegmentDefinition:
    return pb.SegmentDefinition(**definition.to_json())


async def segment_id(context, text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "segment id must be a UUID")


def actor(context) -> str:
    """Who saved it: the person the call acts for, or outreach itself for a service's call (the seed)."""
    person = authenticated_principal(context)
    return person.username if person else "outreach"


class SegmentsApi(segments_pb2_grpc.SegmentsServicer):
    def __init__(self, segments: SegmentStore):
        self.segments = segments

    async def _shown(self, segment: Segment) -> pb.Segment:
        return pb.Segment(
            id=segment.id,
            name=segment.name,
            definition=definition_message(segment.definition),
            created_by=segment.created_by,
            size=await self.segments.size(segment.definition),
        )

    @ERRORS
    async def SaveSegment(self, request, context):
        definition = definition_of(request.definition)
        if request.id:
            saved = await self.segments.change(
                await segment_id(context, request.id), request.name, definition
            )
        else:
            saved = await self.segments.save(request.name, definition, actor(context))
        return await self._shown(saved)

    @ERRORS
    async def ListSegments(self, request, context):
        return pb.ListSegmentsResponse(segments=[await self._shown(s) for s in await self.segments.list()])

    @ERRORS
    async def GetSegment(self, request, context):
        return await self._shown(await self.segments.get(await segment_id(context, request.id)))

    @ERRORS
    async def SegmentSize(self, request, context):
        return pb.SegmentSizeResponse(size=await self.segments.size(definition_of(request)))


def servicer(segments: SegmentStore) -> Servicer:
    return Servicer(SegmentsApi(segments), segments_pb2_grpc.add_SegmentsServicer_to_server, SERVICE_NAME)
