"""SendNotice and SendNotices: email tied to no case. Protobuf in, notices.Notices, protobuf out.

Only outreach (consumers' notices) and insights (staff mail) call them, each as itself
(services/runtime/permissions.py SERVICE_METHODS); a refused notice is answered in its result, so one bad
address never fails a batch.
"""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2

from services.channels.notices import Attachment, Notice, Notices, Result
from services.runtime import tls
from services.runtime.principal import from_metadata

NOTICE_SENDERS = ("outreach", "insights")
MAX_BATCH = 1000


async def only_the_service(context, name: str, refusal: str) -> None:
    """Abort unless the call is the service `name` acting as itself, by its own certificate and not only
    its name: an issuer of principals (the console) may not act as a service by naming it."""
    await only_a_service(context, (name,), refusal)


async def only_a_service(context, names: tuple[str, ...], refusal: str) -> None:
    """only_the_service for any one of `names`: the principal's service and the certificate's agree."""
    who = from_metadata(context.invocation_metadata())
    if who is None or who.role != "service" or who.username not in names:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, refusal)
    if tls.peer_identity(context) != who.username:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, refusal)


def notice_of(request: channels_pb2.NoticeRequest) -> Notice:
    return Notice(
        idempotency_key=request.idempotency_key,
        to_address=request.to_address,
        subject=request.subject,
        body=request.body,
        purpose=request.purpose,
        language=request.language,
        html=request.html,
        list_unsubscribe=request.list_unsubscribe,
        attachment=_attachment_of(request.attachment) if request.HasField("attachment") else None,
    )


def _attachment_of(attachment: channels_pb2.NoticeAttachment) -> Attachment:
    return Attachment(attachment.filename, attachment.content_type, attachment.data)


def result_pb(result: Result) -> channels_pb2.NoticeResult:
    return channels_pb2.NoticeResult(
        idempotency_key=result.idempotency_key,
        message_id=result.message_id,
        delivery=result.delivery,
        refusal=result.refusal,
        attempts=result.attempts,
        last_error=result.last_error,
    )


class NoticeMethods:
    """Mixed into the Channels servicer; `self.notices` is the use case (None: not served here)."""

    notices: Notices | None

    async def SendNotice(self, request, context):
        return (await self._send(context, [request]))[0]

    async def SendNotices(self, request, context):
        if len(request.notices) > MAX_BATCH:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_BATCH} notices a call")
        return channels_pb2.SendNoticesResponse(results=await self._send(context, list(request.notices)))

    async def _send(self, context, requests) -> list[channels_pb2.NoticeResult]:
        await only_a_service(context, NOTICE_SENDERS, "only outreach and insights send notices")
        if self.notices is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "notices are not served here")
        return [result_pb(r) for r in await self.notices.send([notice_of(r) for r in requests])]
