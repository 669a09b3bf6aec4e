"""The Channels gRPC methods for files: the agent's file into a chat, and a kept attachment's bytes."""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels.chat_files import ChatFiles
from services.channels.chat_shapes import Line, Refused
from services.runtime.grpcio import errors_to_status
from services.runtime.principal import from_metadata

ERRORS = errors_to_status({Refused: grpc.StatusCode.INVALID_ARGUMENT})


def chat_line_pb(line: Line) -> channels_pb2.ChatLine:
    stamp = Timestamp()
    stamp.FromDatetime(line.at)
    shown = channels_pb2.ChatLine(id=line.id, author=line.author, body=line.body, at=stamp)
    if line.file:
        shown.file.CopyFrom(channels_pb2.ChatFile(**line.file))
    return shown


class ChatFileMethods:
    """Mixed into ChannelsApi; `self.chat_files` is a ChatFiles, or None where chat is not served."""

    chat_files: ChatFiles | None

    async def _chat_files(self, context) -> ChatFiles:
        if self.chat_files is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "chat is not served here")
        return self.chat_files

    @ERRORS
    async def SendChatFile(self, request, context):
        who = from_metadata(context.invocation_metadata())
        if who is None or who.role == "service":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a chat file is an agent's: name them")
        files = await self._chat_files(context)
        line = await files.from_agent(who.username, request.chat_id, request.filename, request.data)
        return chat_line_pb(line)

    async def GetAttachment(self, request, context):
        files = await self._chat_files(context)
        found = await files.for_case(request.case_id, request.attachment_id)
        if found is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such attachment on this case")
        return channels_pb2.AttachmentFile(
            filename=found.filename, content_type=found.content_type, data=found.content
        )
