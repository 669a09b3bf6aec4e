"""The live board: the page, the pop socket (/ws), the current pop (GET /api/pop) and the PCI pause and
resume of the recording of the call on the screen.

Pops arrive on this replica's bus queue (pops.py); the current pop of an extension, for a page that
reloads or a socket that reconnects, is asked of screenpop over gRPC.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import grpc
from aiohttp import WSMsgType, web
from crs.screenpop.v1 import screenpop_pb2
from crs.telephony.v1 import control_pb2

from services.console import auth
from services.console.auth import Principal
from services.console.permissions import requires
from services.console.pops import Watcher, for_browser
from services.console.web import context, principal, render, session_token

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


async def current_pop(request: web.Request, who: Principal, extension: str) -> dict[str, Any] | None:
    ctx = context(request)
    reply = await ctx.clients.call(
        ctx.clients.screenpop.GetCurrentPop, screenpop_pb2.GetCurrentPopRequest(extension=extension), who
    )
    return json.loads(reply.pop_json) if reply.found else None


@routes.get("/")
@requires("console.use")
async def board(request: web.Request) -> web.Response:
    return render(request, "board.html", extensions=principal(request).watchable())


@routes.get("/api/pop")
@requires("pops.watch")
async def api_current_pop(request: web.Request) -> web.Response:
    """GET ?extension=1001 -> {"pop": {...} | null}: the call ringing or in progress there."""
    who = principal(request)
    extension = request.query.get("extension") or who.extension or ""
    if not who.may_watch(extension):
        return web.json_response({"error": f"you may not watch extension {extension}"}, status=403)
    return web.json_response({"pop": for_browser(await current_pop(request, who, extension))})


async def popped_to(request: web.Request, who: Principal, call_id: str) -> dict[str, Any] | None:
    """The current pop of this call on an extension the person may watch, if any."""
    for extension in who.watchable():
        pop = await current_pop(request, who, extension)
        if pop is not None and pop.get("call_id") == call_id:
            return pop
    return None


async def control_recording(request: web.Request, rpc: str) -> web.Response:
    """Pause, resume or read the recording as the agent the call is popped to, or a supervisor of that
    agent's team."""
    ctx = context(request)
    who = principal(request)
    call_id = request.match_info["call_id"]
    pop = await popped_to(request, who, call_id)
    if pop is None:
        message = "only the agent on this call, or a supervisor of their team, may control its recording"
        return web.json_response({"error": message}, status=403)
    # The replica of telephony that holds the call: with several, no other one has it.
    try:
        control = await ctx.clients.recording_control_at(pop.get("telephony_control") or "")
    except ValueError:
        log.warning("a pop names a telephony control address that is not one; using the default")
        control = ctx.clients.recording_control
    try:
        state = await ctx.clients.call(
            getattr(control, rpc), control_pb2.RecordingRequest(call_id=call_id), who
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return web.json_response({"error": "no such call in progress, or it is not recorded"}, status=404)
    return web.json_response({"call_id": state.call_id, "paused": state.paused, "changed": state.changed})


@routes.get("/api/calls/{call_id}/recording")
@requires("recordings.control")
async def recording_state(request: web.Request) -> web.Response:
    """GET -> {"call_id", "paused", "changed": false}: whether the recording is paused now, for the pop's
    button after the page is drawn again."""
    return await control_recording(request, "GetRecordingState")


@routes.post("/api/calls/{call_id}/recording/pause")
@requires("recordings.control")
async def pause_recording(request: web.Request) -> web.Response:
    """POST -> {"call_id", "paused": true, "changed"}: the recording stops taking the call's audio."""
    return await control_recording(request, "PauseRecording")


@routes.post("/api/calls/{call_id}/recording/resume")
@requires("recordings.control")
async def resume_recording(request: web.Request) -> web.Response:
    """POST -> {"call_id", "paused": false, "changed"}: the recording takes the call's audio again."""
    return await control_recording(request, "ResumeRecording")


@routes.get("/ws")
@requires("pops.watch")
async def pop_socket(request: web.Request) -> web.StreamResponse:
    """Pops for the extensions asked for (default: all the person may watch), the current pop first."""
    ctx = context(request)
    who = principal(request)
    _, from_cookie = session_token(request)
    # A cookie rides along on any page's request: only our own pages may open a socket with it.
    if from_cookie and not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        return web.json_response({"error": "a socket from another site is refused"}, status=403)
    extensions = request.query.getall("extension", []) or who.watchable()
    if not extensions:
        return web.json_response({"error": "no extension is assigned to you"}, status=403)
    for extension in extensions:
        if not who.may_watch(extension):
            return web.json_response({"error": f"you may not watch extension {extension}"}, status=403)
    socket = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)
    await socket.prepare(request)
    watcher = Watcher(socket, who.username, who.role)
    ctx.hub.join(watcher)
    for extension in extensions:
        ctx.hub.add(extension, watcher)
        await ctx.feed.watch(extension)
    try:
        await socket.send_str(
            json.dumps({"type": "hello", "extensions": extensions, "display_name": who.display_name})
        )
        replayed: set[str] = set()
        for extension in extensions:
            try:
                current = await current_pop(request, who, extension)
            except Exception as exc:
                log.warning("the current pop of an extension could not be read: %s", type(exc).__name__)
                current = None
            if current is not None:
                replayed.add(current.get("call_id"))
                await socket.send_str(json.dumps({**for_browser(current), "replay": True}))
        await watcher.release(replayed)
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        ctx.hub.leave(watcher)
        for extension in extensions:
            ctx.hub.remove(extension, watcher)
            await ctx.feed.unwatch(extension)
    return socket
