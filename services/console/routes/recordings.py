"""Recording playback through the console: the session is checked, contacts names the call's recording,
and the bytes are streamed from the recording store. No link in a page works for whoever holds it."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from crs.contacts.v1 import casework_pb2 as pb

from services.console.permissions import audited, requires
from services.console.web import context, principal
from services.runtime.recordings import RecordingNotFound, check_key

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_CALL_ID = 512
CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg"}


@routes.get("/recordings/{call_id}")
@requires("recordings.play")
@audited("recording.play", "call_id")
async def play(request: web.Request) -> web.StreamResponse:
    """GET -> the call's recording (audio/wav), for the case page's player; contacts refuses (403) a call
    outside the supervisor's team."""
    call_id = request.match_info["call_id"]
    if len(call_id) > MAX_CALL_ID:
        raise web.HTTPNotFound(text="no such call")
    ctx = context(request)
    call = await ctx.clients.call(
        ctx.clients.casework.GetCall,
        pb.GetCallRequest(call_id=call_id, for_playback=True),
        principal(request),
    )
    if not call.recording_key:
        raise web.HTTPNotFound(text="this call was not recorded")
    try:
        key = check_key(call.recording_key)
        data = await asyncio.get_running_loop().run_in_executor(None, ctx.recordings.get, key)
    except (ValueError, RecordingNotFound, FileNotFoundError):
        log.warning("a filed call names a recording the store does not hold")
        raise web.HTTPNotFound(text="the recording is not in the store") from None
    suffix = key[key.rfind(".") :] if "." in key else ""
    return web.Response(
        body=data,
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"},
    )
