"""The widget's files, on the chat server beside its socket: POST /chat/files sends one into the chat
(the body is the file; X-Chat-Token names the chat, X-Filename its name, URL-encoded), GET
/chat/files/{id}?token= fetches one of that chat's files. The token is the only key: another chat's
cannot open it. The page is on the brand's origin, so the upload answers CORS for CRS_CHANNELS_CHAT_ORIGINS.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

from aiohttp import web

from services.channels import metrics
from services.channels.chat_files import MAX_CHAT_FILE_BYTES, ChatFiles
from services.channels.chat_shapes import Refused, line_json

log = logging.getLogger(__name__)


def _cors(request: web.Request, allowed: set[str]) -> dict[str, str]:
    origin = (request.headers.get("Origin") or "").rstrip("/").lower()
    if origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": request.headers["Origin"],
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type, X-Chat-Token, X-Filename",
        "Vary": "Origin",
    }


async def _body_within(request: web.Request, limit: int) -> bytes | None:
    """The request's body, or None once it passes `limit` (the rest is not read)."""
    chunks, size = [], 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def add_routes(application: web.Application, files: ChatFiles, origins: set[str]) -> None:
    async def preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers=_cors(request, origins))

    async def upload(request: web.Request) -> web.Response:
        cors = _cors(request, origins)
        data = await _body_within(request, MAX_CHAT_FILE_BYTES)
        if data is None:
            metrics.CHAT_REFUSED.labels("file").inc()
            refusal = {"error": f"a file may be at most {MAX_CHAT_FILE_BYTES // 2**20} MiB"}
            return web.json_response(refusal, status=413, headers=cors)
        try:
            line = await files.from_consumer(
                request.headers.get("X-Chat-Token"), unquote(request.headers.get("X-Filename", "")), data
            )
        except Refused as exc:
            metrics.CHAT_REFUSED.labels("file").inc()
            log.info("a chat file was refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=400, headers=cors)
        return web.json_response({"line": line_json(line)}, status=201, headers=cors)

    async def download(request: web.Request) -> web.Response:
        try:
            found = await files.for_consumer(request.query.get("token"), int(request.match_info["id"]))
        except (Refused, ValueError):
            return web.json_response({"error": "no such file in this chat"}, status=404)
        return web.Response(
            body=found.content,
            content_type=found.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
                "Referrer-Policy": "no-referrer",
            },
        )

    application.add_routes(
        [
            web.options("/chat/files", preflight),
            web.post("/chat/files", upload),
            web.get(r"/chat/files/{id:\d+}", download),
        ]
    )
