"""Log-in and log-out: the page and its form (a session cookie), and POST /api/login (a bearer token)."""

from __future__ import annotations

import logging

from aiohttp import web

from services.console import auth
from services.console.accounts import new_session_id
from services.console.permissions import public, requires
from services.console.tokens import AUDIENCE_OF_KIND
from services.console.web import COOKIE, Context, context, principal, render, session_of, who_is_asking

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_LOGIN_FIELD = 256


class Throttled(Exception):
    """Too many failed log-ins: from this address, or against this account (locked until an admin lifts it)."""


async def login(ctx: Context, username: str, password: str, address: str) -> str | None:
    """The agent id when the credentials are right, else None; as slow for an unknown user as a known one.

    Raises Throttled, before any password is checked, for an address with a burst of failures behind it or
    a locked account; each failure is logged with the client's address and written to the access log."""
    if ctx.throttle.blocked(address):
        if ctx.throttle.first_refusal(address):
            log.warning("log-ins refused: too many failures", extra={"fields": {"client_address": address}})
        raise Throttled("too many failed log-ins from your address: wait a minute and try again")
    ctx.throttle.failed(address)
    username = username.strip().lower()
    if not username or len(username) > MAX_LOGIN_FIELD or len(password) > MAX_LOGIN_FIELD:
        await auth.verify_password_off_loop(None, password[:MAX_LOGIN_FIELD])
        return None
    record = await ctx.accounts.login_record(username)
    attempt = None
    if record is not None:
        attempt = await ctx.accounts.login_attempt(username, limit=ctx.lockout_after, lockout=ctx.lockout_for)
        if attempt is None:
            await _failed(ctx, username, address, "login.locked")
            raise Throttled("this account is locked after too many failed log-ins: an admin can unlock it")
    if not await auth.verify_password_off_loop(record["password_hash"] if record else None, password):
        if record is not None:
            locked_now = attempt is not None and attempt >= ctx.lockout_after
            await _failed(ctx, username, address, "login.locked" if locked_now else "login.failed")
        return None
    ctx.throttle.forgive(address)
    if auth.needs_rehash(record["password_hash"]):
        await ctx.accounts.set_password_hash(record["agent_id"], await auth.hash_password_off_loop(password))
    await ctx.accounts.login_succeeded(record["agent_id"])
    return record["agent_id"]


async def _failed(ctx: Context, username: str, address: str, action: str) -> None:
    log.warning(
        "log-in failed" if action == "login.failed" else "log-in refused: the account is locked",
        extra={"fields": {"username": username[:64], "client_address": address}},
    )
    await ctx.accounts.record_access(
        actor=username[:64], role="", action=action, subject=username[:64], address=address
    )


async def open_session(ctx: Context, agent_id: str, kind: str) -> str:
    """A session row, and the signed token for `kind`'s audience that names it."""
    session_id = new_session_id()
    ttl = ctx.api_session if kind == "api" else ctx.browser_session
    await ctx.accounts.open_session(
        session_id=session_id, agent_id=agent_id, csrf_token=auth.new_token(), kind=kind, ttl=ttl
    )
    return ctx.tokens.issue(session_id=session_id, audience=AUDIENCE_OF_KIND[kind], ttl=ttl, now=ctx.clock())


@routes.get("/login")
@public
async def get_login(request: web.Request) -> web.Response:
    if await who_is_asking(request) is not None:
        raise web.HTTPSeeOther("/")
    return render(request, "login.html", error="", username="")


@routes.post("/login")
@public
async def post_login(request: web.Request) -> web.Response:
    # No session yet, so no CSRF token: the Origin check and the SameSite=Strict cookie guard log-in.
    if not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        return render(request, "denied.html", status=403, message="a log-in from another site is refused")
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    ctx = context(request)
    try:
        agent_id = await login(ctx, username, password, request.remote or "")
    except Throttled as refusal:
        return render(request, "login.html", status=429, error=str(refusal), username=username[:64])
    if agent_id is None:
        return render(
            request, "login.html", status=401, error="Wrong username or password.", username=username[:64]
        )
    token = await open_session(ctx, agent_id, "browser")
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.secure or ctx.behind_tls,
        path="/",
        max_age=int(ctx.browser_session.total_seconds()),
    )
    raise response


@routes.post("/logout")
@requires("console.use")
async def post_logout(request: web.Request) -> web.Response:
    session_id, _ = session_of(request)
    if session_id:
        await context(request).accounts.close_session(session_id)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


@routes.post("/api/login")
@public
async def api_login(request: web.Request) -> web.Response:
    """POST {"username", "password"} -> {"token", "expires_in"}: a bearer token for clients."""
    try:
        body = await request.json()
        username, password = str(body.get("username", "")), str(body.get("password", ""))
    except (ValueError, AttributeError, UnicodeDecodeError):
        return web.json_response({"error": "send a JSON object with username and password"}, status=400)
    ctx = context(request)
    try:
        agent_id = await login(ctx, username, password, request.remote or "")
    except Throttled as refusal:
        return web.json_response({"error": str(refusal)}, status=429)
    if agent_id is None:
        return web.json_response({"error": "wrong username or password"}, status=401)
    token = await open_session(ctx, agent_id, "api")
    return web.json_response({"token": token, "expires_in": int(ctx.api_session.total_seconds())})


@routes.get("/api/me")
@requires("console.use")
async def api_me(request: web.Request) -> web.Response:
    """GET -> {"username", "display_name", "role", "extension", "watchable"}: who the session is."""
    me = principal(request)
    return web.json_response(
        {
            "username": me.username,
            "display_name": me.display_name,
            "role": me.role,
            "extension": me.extension,
            "watchable": me.watchable(),
        }
    )
