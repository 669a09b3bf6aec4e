"""Files in chats and on cases: the agent sends one into a chat from the desk (the body is the file, as a
scanned letter's upload is), and a kept attachment (a chat's file or a mail's) opens from the case page.
The bytes reach a person only through here, after their session and casework's check that they may read
the case: no link works for whoever holds it."""

from __future__ import annotations

from urllib.parse import quote, unquote

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb

from services.console.clients import as_json
from services.console.permissions import audited, requires
from services.console.routes.letters import _body_within, _channels, _readable_case
from services.console.web import BadRequest

routes = web.RouteTableDef()
# channels screens the file again with the same limit; this one stops reading a larger body early.
MAX_CHAT_FILE_BYTES = 3 * 1024 * 1024


@routes.post("/api/chat/{chat_id}/files")
@requires("chat.answer")
async def send_file(request: web.Request) -> web.Response:
    """POST (body: the file; X-Filename: its name, URL-encoded) -> the chat line that carries it; 413 past
    the size limit, 400 for a type not allowed or a chat not at the agent's desk."""
    data = await _body_within(request, MAX_CHAT_FILE_BYTES)
    if data is None:
        return web.json_response(
            {"error": f"a file may be at most {MAX_CHAT_FILE_BYTES // 2**20} MiB"}, status=413
        )
    message = pb.SendChatFileRequest(
        chat_id=request.match_info["chat_id"],
        filename=unquote(request.headers.get("X-Filename", ""))[:200],
        data=data,
    )
    return web.json_response(as_json(await _channels(request, "SendChatFile", message)), status=201)


@routes.get(r"/attachments/{case_id}/{attachment_id:\d+}")
@requires("cases.read")
@audited("attachment.view", "case_id")
async def attachment_file(request: web.Request) -> web.Response:
    """GET -> the attachment as kept, as a download, never cached."""
    case_id = request.match_info["case_id"]
    if not case_id:
        raise BadRequest("case_id: required")
    await _readable_case(request, case_id)
    found = await _channels(
        request,
        "GetAttachment",
        pb.GetAttachmentRequest(case_id=case_id, attachment_id=int(request.match_info["attachment_id"])),
    )
    return web.Response(
        body=found.data,
        content_type=found.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
