"""The staff mailer's `Notices` port over channels' gRPC SendNotices, as insights itself, with a deadline.

Insights writes no SMTP: an alert to QA, the weekly digest and a warning to legal are channels notices of
purpose `service`, sent through its relay (DKIM, retries, the development sink). A refused notice comes
back as its refusal; channels away raises ChannelsDown, so the mail stays owed and goes again later.
"""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc

from services.insights.domain.staff import Mail
from services.insights.staff_mail import ChannelsDown
from services.runtime.principal import Principal

# Insights' certificate vouches for this principal; SERVICE_METHODS lets "insights" call SendNotice(s).
SERVICE = Principal("insights", "service").metadata()
BATCH = 20  # a digest's PDF rides in every copy: keep a call well under gRPC's 4 MB default


def request_of(mail: Mail) -> channels_pb2.NoticeRequest:
    request = channels_pb2.NoticeRequest(
        idempotency_key=mail.key,
        to_address=mail.to_address,
        subject=mail.subject,
        body=mail.body,
        language="en",
        purpose="service",
    )
    if mail.attachment:
        request.attachment.CopyFrom(
            channels_pb2.NoticeAttachment(
                filename=mail.attachment_name, content_type="application/pdf", data=mail.attachment
            )
        )
    return request


class ChannelsNotices:
    def __init__(self, channel: grpc.aio.Channel, *, deadline: float = 20.0):
        self.stub = channels_pb2_grpc.ChannelsStub(channel)
        self.deadline = deadline

    async def send(self, mails: list[Mail]) -> list[str]:
        refusals: list[str] = []
        for start in range(0, len(mails), BATCH):
            request = channels_pb2.SendNoticesRequest(
                notices=[request_of(m) for m in mails[start : start + BATCH]]
            )
            try:
                answer = await self.stub.SendNotices(request, metadata=SERVICE, timeout=self.deadline)
            except grpc.aio.AioRpcError as exc:
                raise ChannelsDown(f"SendNotices: {exc.code().name} {exc.details() or ''}".strip()) from None
            refusals += [r.refusal for r in answer.results]
        return refusals
