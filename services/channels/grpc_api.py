"""The Channels gRPC service: protobuf in, channels' use cases, protobuf out. No SQL here."""

from __future__ import annotations

import uuid

import grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels.outbound import InvalidReply, NoThread
from services.channels.service import Channels
from services.channels.store import MessageRow
from services.runtime.grpcio import Servicer, errors_to_status
from services.runtime.principal import from_metadata

SERVICE_NAME = channels_pb2.DESCRIPTOR.services_by_name["Channels"].full_name
ERRORS = errors_to_status(
    {InvalidReply: grpc.StatusCode.INVALID_ARGUMENT, NoThread: grpc.StatusCode.FAILED_PRECONDITION}
)


def _stamp(value) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def message_pb(row: MessageRow) -> channels_pb2.Message:
    return channels_pb2.Message(
        id=row.id,
        case_id=row.case_id,
        direction=row.direction,
        message_id=row.message_id,
        from_address=row.from_address,
        to_address=row.to_address,
        subject=row.subject,
        body=row.body,
        language=row.language,
        delivery=row.delivery,
        author=row.author,
        attachments=[channels_pb2.Attachment(**a) for a in row.attachments],
        created_at=_stamp(row.created_at),
        attempts=row.attempts,
        last_error=row.last_error,
    )


async def _case_id(context, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "case_id: not a case id")


class ChannelsApi(channels_pb2_grpc.ChannelsServicer):
    def __init__(self, channels: Channels):
        self.channels = channels

    async def ListMessages(self, request, context):
        found = await self.channels.store.messages(await _case_id(context, request.case_id))
        return channels_pb2.ListMessagesResponse(messages=[message_pb(m) for m in found])

    @ERRORS
    async def SendReply(self, request, context):
        who = from_metadata(context.invocation_metadata())
        if who is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a reply needs the agent's principal")
        row = await self.channels.reply(
            await _case_id(context, request.case_id),
            body=request.body,
            subject=request.subject,
            author=who.username,
        )
        return message_pb(row)

    async def ListRejections(self, request, context):
        found = await self.channels.store.rejections(max(1, min(request.limit or 50, 500)))
        return channels_pb2.ListRejectionsResponse(
            rejections=[
                channels_pb2.Rejection(
                    id=r.id, reason=r.reason, detail=r.detail, size=r.size, received_at=_stamp(r.received_at)
                )
                for r in found
            ]
        )


def servicer(channels: Channels) -> Servicer:
    return Servicer(ChannelsApi(channels), channels_pb2_grpc.add_ChannelsServicer_to_server, SERVICE_NAME)
