"""The note a survey answer puts on its case, over contacts' Casework gRPC (AddAction).

Outreach acts on its own account (principal "outreach", role "service", vouched for by its certificate;
permissions.SERVICE_METHODS), so the case's timeline shows "outreach" as the actor. The answer is a message
from the consumer, so it is filed as the action `message_received` with the line an agent reads as its note.
"""

from __future__ import annotations

import logging

import grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc

from services.outreach.notices_client import SERVICE

ACTION = "message_received"
log = logging.getLogger(__name__)


class CaseNotes:
    def __init__(self, channel: grpc.aio.Channel, *, deadline: float = 10.0):
        self.cases = casework_pb2_grpc.CaseworkStub(channel)
        self.deadline = deadline

    async def __call__(self, case_id: str, text: str) -> None:
        request = casework_pb2.AddActionRequest(id=case_id, action_code=ACTION, note=text)
        try:
            await self.cases.AddAction(request, metadata=SERVICE, timeout=self.deadline)
        except grpc.aio.AioRpcError as error:
            # The answer is recorded and published already; the consumer is thanked either way.
            log.warning("survey answer not noted on case %s: contacts answered %s %s", case_id,
                        error.code().name, error.details())  # fmt: skip
