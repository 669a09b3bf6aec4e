"""SendNotice and SendNotices: outreach's email tied to no case. Protobuf in, notices.Notices, protobuf out.

Only outreach calls them, as itself (services/runtime/permissions.py SERVICE_METHODS); a refused notice is
answered in its result, so one bad address never fails a batch.
"""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2

from services.channels.notices import Notice, Notices, Result
from services.runtime import tls
from services.runtime.principal import from_metadata

NOTICE_SENDER = "outreach"
MAX_BATCH = 1000


async def only_the_service(context, name: str, refusal: str) -> None:
    """Abort unless the call is the service `name` acting as itself, by its own certificate and not only
    its name: an issuer of principals (the console) may not act as a service by naming it."""
    who = from_metadata(context.invocation_metadata())
    if who is None or (who.role, who.username) != ("service", name) or tls.peer_identity(context) != name:
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
    )


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
        await only_the_service(context, NOTICE_SENDER, "only outreach sends notices")
        if self.notices is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "notices are not served here")
        return [result_pb(r) for r in await self.notices.send([notice_of(r) for r in requests])]
