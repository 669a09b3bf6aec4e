"""The HTTP side: log-in, the pop socket, the JSON API for `crs watch`, probes and metrics.

The console's HTML pages are in console.py; both share the request's authentication from here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import WSMsgType, web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.screenpop import auth
from services.screenpop.auth import Principal
from services.screenpop.hub import Hub
from services.screenpop.routing import PopRouter
from services.screenpop.sources import GrpcSources
from services.screenpop.store import Store

log = logging.getLogger(__name__)

COOKIE = "crs_session"
MAX_LOGIN_FIELD = 256


@dataclass
class Context:
    store: Store
    hub: Hub
    router: PopRouter
    sources: GrpcSources
    region: str
    browser_session: timedelta = timedelta(hours=12)
    api_session: timedelta = timedelta(days=30)
    page_deadline: float = 1.0
    ready: bool = False


CONTEXT = web.AppKey("context", Context)


def context(request: web.Request) -> Context:
    return request.app[CONTEXT]


def session_token(request: web.Request) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (a browser) rather than a bearer header."""
    bearer = auth.bearer_token(request.headers.get("Authorization"))
    if bearer:
        return bearer, False
    return request.cookies.get(COOKIE), True


async def principal_of(request: web.Request) -> Principal | None:
    token, _ = session_token(request)
    return await context(request).store.principal(token)


async def login(ctx: Context, username: str, password: str) -> str | None:
    """The agent id when the credentials are right, else None."""
    if not username or len(username) > MAX_LOGIN_FIELD or len(password) > MAX_LOGIN_FIELD:
        auth.verify_password(None, password[:MAX_LOGIN_FIELD])
        return None
    record = await ctx.store.login_record(username.strip().lower())
    if not auth.verify_password(record["password_hash"] if record else None, password):
        return None
    if auth.needs_rehash(record["password_hash"]):
        await ctx.store.set_password_hash(record["agent_id"], auth.hash_password(password))
    return record["agent_id"]


async def open_session(ctx: Context, agent_id: str, kind: str) -> str:
    token = auth.new_token()
    ttl = ctx.api_session if kind == "api" else ctx.browser_session
    await ctx.store.open_session(
        agent_id=agent_id, token=token, csrf_token=auth.new_token(), kind=kind, ttl=ttl
    )
    return token


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Strict", secure=request.secure, path="/", max_age=12 * 3600
    )


# -- JSON API --


async def api_login(request: web.Request) -> web.Response:
    """POST {"username", "password"} -> {"token"}: a bearer token for `crs watch` and other clients."""
    try:
        body = await request.json()
        username, password = str(body.get("username", "")), str(body.get("password", ""))
    except (ValueError, AttributeError):
        return web.json_response({"error": "send a JSON object with username and password"}, status=400)
    ctx = context(request)
    agent_id = await login(ctx, username, password)
    if agent_id is None:
        return web.json_response({"error": "wrong username or password"}, status=401)
    token = await open_session(ctx, agent_id, "api")
    return web.json_response({"token": token, "expires_in": int(ctx.api_session.total_seconds())})


async def api_me(request: web.Request) -> web.Response:
    principal = await principal_of(request)
    if principal is None:
        return web.json_response({"error": "log in first"}, status=401)
    return web.json_response(
        {
            "username": principal.username,
            "display_name": principal.display_name,
            "role": principal.role,
            "extension": principal.extension,
            "watchable": principal.watchable(),
        }
    )


async def api_current_pop(request: web.Request) -> web.Response:
    principal = await principal_of(request)
    if principal is None:
        return web.json_response({"error": "log in first"}, status=401)
    extension = request.query.get("extension") or principal.extension or ""
    if not principal.may_watch(extension):
        return web.json_response({"error": f"you may not watch extension {extension}"}, status=403)
    pop = await context(request).store.current_pop(extension)
    return web.json_response({"pop": pop})


# -- the pop socket --


async def pop_socket(request: web.Request) -> web.StreamResponse:
    """Pops for the extensions asked for (default: all the principal may watch), current pop first."""
    ctx = context(request)
    token, from_cookie = session_token(request)
    principal = await ctx.store.principal(token)
    if principal is None:
        raise web.HTTPUnauthorized(text="log in first")
    # A cookie rides along on any page's request: only our own pages may open a socket with it.
    if from_cookie and not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        raise web.HTTPForbidden(text="cross-origin socket refused")
    extensions = request.query.getall("extension", []) or principal.watchable()
    if not extensions:
        raise web.HTTPForbidden(text="no extension is assigned to you")
    for extension in extensions:
        if not principal.may_watch(extension):
            raise web.HTTPForbidden(text=f"you may not watch extension {extension}")
    socket = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)
    await socket.prepare(request)
    await socket.send_str(
        json.dumps({"type": "hello", "extensions": extensions, "display_name": principal.display_name})
    )
    # Bound before the current pop is read, so a pop published in between is not missed (at worst it
    # comes twice, and the page shows the same call again).
    for extension in extensions:
        ctx.hub.add(extension, socket)
        await ctx.router.watch(extension)
    try:
        for extension in extensions:
            current = await ctx.store.current_pop(extension)
            if current is not None:
                await socket.send_str(json.dumps({**current, "replay": True}))
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        for extension in extensions:
            ctx.hub.remove(extension, socket)
            await ctx.router.unwatch(extension)
    return socket


# -- probes --


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    ctx = context(request)
    if not ctx.ready:
        return web.Response(status=503, text="starting or stopping")
    try:
        async with ctx.store.pool.connection(timeout=1) as conn:
            await conn.execute("SELECT 1")
    except Exception:
        return web.Response(status=503, text="database unreachable")
    return web.Response(text="ready")


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def build_app(ctx: Context) -> web.Application:
    from services.screenpop import console

    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    app[CONTEXT] = ctx
    app.router.add_post("/api/login", api_login)
    app.router.add_get("/api/me", api_me)
    app.router.add_get("/api/pop", api_current_pop)
    app.router.add_get("/ws", pop_socket)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    console.add_routes(app)
    return app
