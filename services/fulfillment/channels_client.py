"""Channels over gRPC, for a letter going by email: SendLetter, as fulfillment itself, with a deadline."""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc

from services.fulfillment.letter_mail import ChannelsDown, DueLetter, Refused
from services.runtime.principal import Principal

# Fulfillment acts on its own account: its certificate vouches for this principal, and the permission
# table lets the service "fulfillment" call SendLetter (services/runtime/permissions.py).
SERVICE = Principal("fulfillment", "service").metadata()
# Codes that mean the letter itself is refused: asking again would get the same answer.
REFUSALS = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)


class ChannelsLetters:
    def __init__(self, channel: grpc.aio.Channel, *, deadline: float = 10.0):
        self.stub = channels_pb2_grpc.ChannelsStub(channel)
        self.deadline = deadline

    async def send(self, letter: DueLetter) -> str:
        request = channels_pb2.SendLetterRequest(
            fulfillment_id=letter.fulfillment_id,
            case_id=letter.case_id,
            to_address=letter.email_address,
            consumer_name=letter.consumer_name,
            language=letter.language,
            pdf=letter.pdf,
            template=letter.template,
        )
        try:
            message = await self.stub.SendLetter(request, metadata=SERVICE, timeout=self.deadline)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in REFUSALS:
                raise Refused(exc.details() or exc.code().name) from None
            raise ChannelsDown(f"did not take it: {exc.code().name} {exc.details() or ''}".strip()) from None
        return message.message_id
