"""The chat desk: the page (/chats) and its socket (/ws/chat), which holds channels' AgentChat stream for
the agent. While the socket is open the agent is available for chat in their languages (accounts); closing
it (the page left or the console gone) makes them unavailable. Frames pass through both ways as JSON, in
the shapes of ChatAction (up) and ChatEvent (down); the agent is the signed-in person, never a field.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import grpc
from aiohttp import WSMsgType, web
from crs.channels.v1 import channels_pb2 as pb
from google.protobuf import json_format

from services.console import auth
from services.console.clients import as_json
from services.console.permissions import requires
from services.console.web import context, principal, render, session_token

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

ACTIONS = ("reply", "typing", "delivered", "end")
MAX_FRAME = 8192
CAPACITY = 3


@routes.get("/chats")
@requires("chat.answer")
async def chat_page(request: web.Request) -> web.Response:
    return render(request, "chats.html")


def _action(data: str) -> pb.ChatAction:
    """A frame from the agent's page as a ChatAction; ValueError when it is not one they may send."""
    frame = json.loads(data)
    if not isinstance(frame, dict) or frame.get("kind") not in ACTIONS:
        raise ValueError(f"a chat action is one of {', '.join(ACTIONS)}")
    action = pb.ChatAction()
    json_format.ParseDict({k: frame[k] for k in ("kind", "chat_id", "body", "line_id") if k in frame}, action)
    return action


async def _up(socket: web.WebSocketResponse, stream) -> None:
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            break
        try:
            action = _action(message.data)
        except (ValueError, json_format.ParseError) as exc:
            await socket.send_str(json.dumps({"kind": "refused", "detail": str(exc)[:200]}))
            continue
        await stream.write(action)


async def _down(socket: web.WebSocketResponse, stream) -> None:
    async for event in stream:
        await socket.send_str(json.dumps(as_json(event), separators=(",", ":")))


@routes.get("/ws/chat")
@requires("chat.answer")
async def chat_socket(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    who = principal(request)
    _, from_cookie = session_token(request)
    if from_cookie and not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        return web.json_response({"error": "a socket from another site is refused"}, status=403)
    languages = await ctx.accounts.chat_languages(who.agent_id)
    skills = await ctx.accounts.skills(who.agent_id)
    socket = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_FRAME)
    await socket.prepare(request)
    stream = ctx.clients.channels.AgentChat(metadata=who.for_services().metadata())
    try:
        await stream.write(
            pb.ChatAction(
                kind="available",
                languages=languages,
                skills=skills,
                capacity=CAPACITY,
                display_name=who.display_name,
            )
        )
        tasks = [asyncio.create_task(_up(socket, stream)), asyncio.create_task(_down(socket, stream))]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None and not isinstance(task.exception(), grpc.aio.AioRpcError):
                log.warning("the chat desk socket failed: %s", type(task.exception()).__name__)
    except grpc.aio.AioRpcError as exc:
        log.warning("channels refused the chat desk: %s", exc.code().name)
    finally:
        stream.cancel()
        with contextlib.suppress(Exception):
            await socket.close(code=1011 if not socket.closed else 1000, message=b"chat desk closed")
    return socket
