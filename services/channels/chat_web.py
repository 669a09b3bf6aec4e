"""The chat widget's door: its script (GET /chat/widget.js) and its socket (GET /chat/ws), on
CRS_CHANNELS_CHAT_BIND. The socket is opened only from an origin in CRS_CHANNELS_CHAT_ORIGINS.

The widget speaks JSON frames. Up: hello {language, resume} (resume: the token of the chat this tab had,
after a reload), start {name, email, body}, say {body}, typing, delivered {line_id}, leave {name, email,
body}, agent (talk to a person), resolved (the assistant's answer did it). Down: welcome {available},
started {case_reference, assistant, token}, resumed {case_reference, assistant, lines}, sent {line},
line {line} (the assistant's with `assistant` and its `article`), typing, delivered {line_id}, agent {name}
(an agent took the chat), waiting (for an agent), unavailable, left {case_reference}, ended {detail},
error {detail}. Each connection has a budget of frames (a burst, refilled each second); a frame over it is
refused with an error, and a connection that keeps flooding is closed (1008). A closed socket leaves its
chat open for a while (chat.RESUME_SECONDS), for the same tab's reload to take it up again.
"""

from __future__ import annotations

import json
import logging
import pathlib
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from services.channels import metrics
from services.channels.chat import Chat, ChatDesks, Refused, language_of

log = logging.getLogger(__name__)

WIDGET = pathlib.Path(__file__).with_name("static") / "widget.js"
MAX_FRAME = 8192
# Frames over the budget before the connection is closed as a flood.
FLOOD_LIMIT = 20


@dataclass
class Budget:
    """A token bucket: `burst` frames at once, `rate` more each second."""

    burst: float
    rate: float
    clock: Any = time.monotonic
    tokens: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self):
        self.tokens, self.at = self.burst, self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class WidgetSocket:
    """The consumer's side of one chat: a Sink for the desks, and the frames the widget sends."""

    def __init__(self, socket: web.WebSocketResponse, desks: ChatDesks):
        self.socket = socket
        self.desks = desks
        self.language = "en"
        self.chat: Chat | None = None

    async def send(self, event: dict[str, Any]) -> None:
        if not self.socket.closed:
            await self.socket.send_str(json.dumps(event, separators=(",", ":")))

    async def error(self, detail: str) -> None:
        await self.send({"type": "error", "detail": detail})

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "hello":
            self.language = language_of(str(frame.get("language", ""))[:20])
            chat = self.desks.resume(frame.get("resume"), self) if self.chat is None else None
            if chat is None:
                await self.send({"type": "welcome", "available": self.desks.available(self.language)})
                return
            self.chat = chat
            await self.send(
                {
                    "type": "resumed",
                    "case_reference": chat.reference,
                    "assistant": not (chat.agent or chat.waiting),
                    "lines": self.desks.transcript(chat),
                }
            )
        elif kind == "start":
            await self._start(frame)
        elif kind == "leave":
            outcome = await self.desks.leave_message(
                name=frame.get("name"),
                email=frame.get("email"),
                language=self.language,
                body=frame.get("body"),
            )
            if outcome.rejected:
                await self.error("the message could not be taken: please write to us by email")
            else:
                await self.send({"type": "left", "case_reference": outcome.reference})
        elif kind in ("say", "typing", "delivered", "agent", "resolved"):
            if self.chat is None:
                raise Refused("start a chat first")
            if kind == "agent":
                await self.desks.consumer_wants_agent(self.chat)
            elif kind == "resolved":
                await self.desks.consumer_resolved(self.chat)
            elif kind == "say":
                await self.desks.consumer_says(self.chat, frame.get("body"))
            elif kind == "typing":
                await self.desks.consumer_typing(self.chat)
            else:
                await self.desks.consumer_saw(self.chat, frame.get("line_id"))
        else:
            raise Refused(f"not a chat frame: {str(kind)[:40]!r}")

    async def _start(self, frame: dict[str, Any]) -> None:
        if self.chat is not None and not self.chat.ended:
            raise Refused("this chat has already started")
        chat = await self.desks.start(
            name=frame.get("name"),
            email=frame.get("email"),
            language=self.language,
            first=frame.get("body"),
            consumer=self,
        )
        if chat is None:
            await self.send({"type": "unavailable"})
            return
        self.chat = chat
        metrics.CHATS.inc()
        await self.send(
            {
                "type": "started",
                "case_reference": chat.reference,
                "assistant": not (chat.agent or chat.waiting),
                "token": chat.token,
            }
        )

    async def closed(self) -> None:
        if self.chat is not None:
            await self.desks.consumer_away(self.chat, self)


def allowed_origin(origin: str | None, allowed: set[str]) -> bool:
    return bool(origin) and origin.rstrip("/").lower() in allowed


def app(desks: ChatDesks, *, origins: set[str], burst: float, rate: float) -> web.Application:
    """`origins` (lower case, no trailing slash) is read at each connection: the demo page adds its own."""
    allowed = origins

    async def widget(request: web.Request) -> web.Response:
        return web.Response(
            body=WIDGET.read_bytes(),
            content_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    async def socket(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not allowed_origin(origin, allowed):
            log.info(
                "a chat socket from an origin not allowed was refused", extra={"fields": {"origin": origin}}
            )
            metrics.CHAT_REFUSED.labels("origin").inc()
            return web.json_response({"error": "chat is not offered on this site"}, status=403)
        ws = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        await serve_widget(ws, desks, Budget(burst, rate))
        return ws

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    application = web.Application(client_max_size=MAX_FRAME)
    application.add_routes(
        [web.get("/chat/widget.js", widget), web.get("/chat/ws", socket), web.get("/healthz", healthz)]
    )
    return application


DEMO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Oat Co. (a demo brand site)</title></head>
<body><h1>Oat Co. cereals</h1>
<p>A page of the brand's own site, on another origin than CRS: the chat button comes from this tag alone.</p>
<pre>&lt;script src="{widget}" async&gt;&lt;/script&gt;</pre>
<script src="{widget}" async></script>
</body></html>
"""


def demo_app(widget_url: str) -> web.Application:
    """A stand-in for the brand's site in development: one page that carries the widget's script tag."""
    page = DEMO_PAGE.format(widget=widget_url)

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    application = web.Application()
    application.add_routes([web.get("/", index)])
    return application


async def serve_widget(ws: web.WebSocketResponse, desks: ChatDesks, budget: Budget) -> None:
    consumer = WidgetSocket(ws, desks)
    over = 0
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                if message.type == WSMsgType.ERROR:
                    break
                await consumer.error("frames are JSON text")
                continue
            if not budget.take():
                over += 1
                metrics.CHAT_REFUSED.labels("rate").inc()
                if over >= FLOOD_LIMIT:
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                    break
                await consumer.error("too many messages: please slow down")
                continue
            await _one_frame(consumer, message.data)
    finally:
        await consumer.closed()


async def _one_frame(consumer: WidgetSocket, data: str) -> None:
    try:
        frame = json.loads(data)
        if not isinstance(frame, dict):
            raise ValueError("not an object")
    except ValueError:
        await consumer.error("a frame is a JSON object")
        return
    try:
        await consumer.handle(frame)
    except Refused as exc:
        metrics.CHAT_REFUSED.labels("invalid").inc()
        await consumer.error(str(exc))
    except Exception:
        log.exception("a chat frame failed")
        await consumer.error("something went wrong on our side: please try again")
