"""The `Notices` port over channels' gRPC SendNotices, as outreach itself, with a deadline on every call.

Outreach writes no SMTP: every campaign message, survey and reminder is a channels notice, queued in its
outbox and sent through its relay (with DKIM and, in development, the mail sink). A notice channels
refuses (a bad address, a missing unsubscribe link) is False in the answer and logged with the reason;
channels being away raises, so the caller's rows stay claimed and go again, with the same keys, later.
"""

from __future__ import annotations

import logging

import grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc

from services.outreach.campaign_sender import ChannelsDown, Notice
from services.runtime.principal import Principal

log = logging.getLogger(__name__)

# Outreach acts on its own account: its certificate vouches for this principal, and the permission table
# lets the service "outreach" call SendNotice(s) (services/runtime/permissions.py).
SERVICE = Principal("outreach", "service").metadata()
BATCH = 500


def request_of(notice: Notice) -> channels_pb2.NoticeRequest:
    return channels_pb2.NoticeRequest(
        idempotency_key=notice.idempotency_key,
        to_address=notice.to_address,
        subject=notice.subject,
        body=notice.body,
        html=notice.html,
        language=notice.language,
        purpose=notice.purpose,
        list_unsubscribe=notice.list_unsubscribe,
    )


class ChannelsNotices:
    def __init__(self, channel: grpc.aio.Channel, *, deadline: float = 20.0):
        self.stub = channels_pb2_grpc.ChannelsStub(channel)
        self.deadline = deadline

    async def send(self, notices: list[Notice]) -> list[bool]:
        taken: list[bool] = []
        for start in range(0, len(notices), BATCH):
            batch = notices[start : start + BATCH]
            request = channels_pb2.SendNoticesRequest(notices=[request_of(n) for n in batch])
            try:
                answer = await self.stub.SendNotices(request, metadata=SERVICE, timeout=self.deadline)
            except grpc.aio.AioRpcError as exc:
                raise ChannelsDown(f"SendNotices: {exc.code().name} {exc.details() or ''}".strip()) from None
            for result in answer.results:
                if result.refusal:
                    log.warning("channels refused notice %s: %s", result.idempotency_key, result.refusal)
            taken += [not r.refusal for r in answer.results]
        return taken
