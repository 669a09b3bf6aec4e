"""What every console route shares: the context, who is asking, the permission and CSRF guard, and errors.

A request is authenticated by the session cookie (a browser) or by a bearer token in the Authorization
header (`crs watch`, integrations, tokens from `crs agent token`): each a signed token (tokens.py) for its
own audience, naming a session row that must still be live for an active agent. The middleware reads the permission the
route named with @requires, and refuses before the handler runs:
- nobody signed in: 401 (JSON for /api/ and the socket), or a redirect to the log-in page;
- a permission the person lacks: 403, with a message saying which;
- a change carried by the cookie alone: it must come from our own origin and carry the session's CSRF
  token (the `csrf` form field, or the X-CSRF-Token header the pages' scripts send).
"""

from __future__ import annotations

import logging
import pathlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import grpc
import jinja2
from aiohttp import web

from services.console import auth
from services.console.accounts import Accounts
from services.console.auth import Principal
from services.console.clients import Clients
from services.console.permissions import PUBLIC, Denied, allowed, audit_of, permission_of
from services.console.pops import Hub, PopFeed
from services.console.throttle import AddressThrottle
from services.console.tokens import AUDIENCE_OF_KIND, TokenKeys, development_keys
from services.runtime import pages
from services.runtime.recordings import RecordingStore

log = logging.getLogger(__name__)

COOKIE = "crs_session"
CSRF_HEADER = "X-CSRF-Token"
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Context:
    accounts: Accounts
    clients: Clients
    hub: Hub
    feed: PopFeed
    recordings: RecordingStore
    region: str
    page_deadline: float = 1.5
    browser_session: timedelta = timedelta(hours=12)
    api_session: timedelta = timedelta(days=30)
    lockout_after: int = 10
    lockout_for: timedelta = timedelta(days=365)  # until an admin lifts it
    throttle: AddressThrottle = field(default_factory=AddressThrottle)
    behind_tls: bool = False
    tokens: TokenKeys = field(default_factory=development_keys)
    clock: Callable[[], float] = time.time
    ready: bool = False
    templates: jinja2.Environment = field(default_factory=lambda: pages.templates(TEMPLATES))


CONTEXT = web.AppKey("context", Context)
PRINCIPAL = web.RequestKey("principal", Principal)


def context(request: web.Request) -> Context:
    return request.app[CONTEXT]


def principal(request: web.Request) -> Principal:
    """The signed-in person; only on routes that name a permission."""
    return request[PRINCIPAL]


def wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/ws"))


def session_token(request: web.Request) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (a browser) rather than a bearer header."""
    bearer = auth.bearer_token(request.headers.get("Authorization"))
    if bearer:
        return bearer, False
    return request.cookies.get(COOKIE), True


def session_of(request: web.Request) -> tuple[str | None, str]:
    """The session id the request's token names, if it verifies for its door, and that door's kind."""
    token, from_cookie = session_token(request)
    kind = "browser" if from_cookie else "api"
    ctx = context(request)
    return ctx.tokens.verify(token, audience=AUDIENCE_OF_KIND[kind], now=ctx.clock()), kind


async def who_is_asking(request: web.Request) -> Principal | None:
    session_id, kind = session_of(request)
    return await context(request).accounts.principal(session_id, kind)


def refuse(request: web.Request, status: int, message: str) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"error": message}, status=status)
    if status == 401:
        raise web.HTTPSeeOther("/login")
    return pages.render(context(request).templates, "denied.html", status=status, message=message, me=None)


async def _csrf_given(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return str((await request.post()).get("csrf", "")) or None
    return None


HSTS = "max-age=31536000; includeSubDomains"


@web.middleware
async def transport_security(request: web.Request, handler):
    """Behind TLS (CRS_CONSOLE_BEHIND_TLS), every answer tells the browser to use HTTPS only."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        if context(request).behind_tls:
            response.headers["Strict-Transport-Security"] = HSTS
        raise
    if context(request).behind_tls:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


@web.middleware
async def authenticate(request: web.Request, handler):
    if request.match_info.http_exception is not None:
        return await handler(request)  # no such route, or a method it does not take: 404 or 405
    permission = permission_of(request.match_info.handler)
    if permission == PUBLIC:
        return await handler(request)
    if permission is None:
        # A route that forgot to name its permission is closed, not open.
        log.error("route %s names no permission; refusing it", request.path)
        return refuse(request, 403, "this route names no permission")
    _, from_cookie = session_token(request)
    who = await who_is_asking(request)
    if who is None:
        return refuse(request, 401, "log in first, or send a token as Authorization: Bearer")
    if from_cookie and request.method not in SAFE_METHODS:
        if not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
            return refuse(request, 403, "a change from another site is refused")
        if not auth.csrf_ok(who.csrf_token, await _csrf_given(request)):
            return refuse(request, 403, "the page expired: reload it and try again")
    if not allowed(who, permission):
        return deny(request, who, permission, f"you do not have the permission {permission}")
    request[PRINCIPAL] = who
    try:
        response = await handler(request)
    except Denied as exc:
        return deny(request, who, exc.permission, str(exc))
    audit = audit_of(request.match_info.handler)
    if audit is not None and response.status < 400:
        action, subject = audit
        await context(request).accounts.record_access(
            actor=who.username,
            role=who.role,
            action=action,
            subject=request.match_info.get(subject) or request.query.get(subject, ""),
            address=request.remote or "",
            detail=" ".join(filter(None, (request.method, request.path, request.get(AUDIT_DETAIL)))),
        )
    return response


def deny(request: web.Request, who: Principal, permission: str, message: str) -> web.StreamResponse:
    """A 403 for a signed-in person, logged with who, what and from where."""
    log_refusal(request, who, permission, message)
    return refuse(request, 403, message)


def log_refusal(request: web.Request, who: Principal | None, permission: str, message: str) -> None:
    """A refusal, the console's or a service's, with who, what and from where."""
    log.warning(
        "refused: %s",
        message,
        extra={
            "fields": {
                "username": who.username if who else "",
                "role": who.role if who else "",
                "permission": permission,
                "route": f"{request.method} {request.path}",
                "client_address": request.remote or "",
            }
        },
    )


GRPC_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}


def error_text(exc: Exception) -> str:
    """What to tell a person when a service call failed."""
    if isinstance(exc, grpc.aio.AioRpcError):
        status = GRPC_STATUS.get(exc.code(), 502)
        if status in (400, 403, 409):
            return exc.details() or "the request was refused"
        if status == 404:
            return "not found"
        if status == 503:
            return "the service did not answer in time"
    if isinstance(exc, TimeoutError):
        return "the service did not answer in time"
    return "the service failed"


# What a route adds to its access-log line (an export's reason, say).
AUDIT_DETAIL = "crs.audit_detail"


class BadRequest(Exception):
    """The client's request is malformed; becomes a 400 with this message."""


@web.middleware
async def api_errors(request: web.Request, handler):
    """A service's refusal becomes the HTTP status a client can act on, with the service's reason."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except grpc.aio.AioRpcError as exc:
        status = GRPC_STATUS.get(exc.code(), 502)
        if status >= 500:
            log.warning("%s: a service call failed: %s", request.path, exc.code().name)
        if status == 403:
            # A rule of the case or the call (the service's domain) refused what the role alone allows.
            handler_permission = permission_of(request.match_info.handler) or ""
            log_refusal(request, request.get(PRINCIPAL), handler_permission, error_text(exc))
        if not wants_json(request):
            message = error_text(exc)
            return pages.render(
                context(request).templates, "denied.html", status=status, message=message, me=None
            )
        return web.json_response({"error": error_text(exc)}, status=status)


async def json_body(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise BadRequest("send the body as application/json")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def render(request: web.Request, template: str, *, status: int = 200, **values) -> web.Response:
    """A page, with the signed-in person (if any) for the bar and the CSRF token for forms and scripts."""
    return pages.render(
        context(request).templates, template, status=status, me=request.get(PRINCIPAL), **values
    )
