"""The casework REST API (aiohttp), used by the console pages and by integrations.

Who is asking comes from a console token (services/runtime/console_tokens.py), sent as a bearer token or
held in the `crs_cases` cookie set by /cases/enter. A request authenticated by the cookie that changes
something must carry the header X-CRS-Console (a page of ours sets it; a cross-site form cannot), so a
cookie alone never changes a case.
"""

from __future__ import annotations

import json
import logging
import pathlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from services.contacts import codes as codes_mod
from services.contacts import openapi, search
from services.contacts.case_store import CaseStore
from services.contacts.casework import Casework, Conflict, NotFound, present
from services.contacts.codes import CachedCodeBook
from services.contacts.validation import ValidationError
from services.runtime import console_tokens
from services.runtime.console_tokens import ConsoleUser

log = logging.getLogger(__name__)

COOKIE = "crs_cases"
CONSOLE_HEADER = "X-CRS-Console"
WEB = pathlib.Path(__file__).resolve().parent / "web"
MAX_BODY = 256 * 1024


@dataclass
class CaseApi:
    casework: Casework
    store: CaseStore
    codes: CachedCodeBook
    secret: bytes
    recording_link: object  # callable(key) -> signed URL


API = web.AppKey("case_api", CaseApi)
USER = web.RequestKey("console_user", ConsoleUser)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _user(request: web.Request) -> ConsoleUser | None:
    api = request.app[API]
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return console_tokens.verify(value.strip(), secret=api.secret)
    user = console_tokens.verify(request.cookies.get(COOKIE), secret=api.secret)
    if user and request.method not in ("GET", "HEAD") and not request.headers.get(CONSOLE_HEADER):
        raise web.HTTPForbidden(
            text=json.dumps({"error": f"a change from the console must carry the {CONSOLE_HEADER} header"}),
            content_type="application/json",
        )
    return user


@web.middleware
async def errors(request: web.Request, handler):
    """Domain errors become the status a client can act on; the message says what is wrong."""
    if request.path.startswith("/api/") and request.path not in ("/api/openapi.json",):
        user = _user(request)
        if user is None:
            return _error(401, "sign in through the console, or send a console token as a bearer token")
        request[USER] = user
    try:
        return await handler(request)
    except ValidationError as exc:
        return _error(400, str(exc))
    except NotFound as exc:
        return _error(404, str(exc))
    except Conflict as exc:
        return _error(409, str(exc))


async def _body(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise ValidationError("send the body as application/json")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body


def _supervisor(request: web.Request) -> ConsoleUser:
    user = request[USER]
    if not user.is_supervisor:
        raise web.HTTPForbidden(
            text=json.dumps({"error": "only a supervisor may do this"}), content_type="application/json"
        )
    return user


async def me(request: web.Request) -> web.Response:
    user = request[USER]
    return web.json_response(
        {"username": user.username, "display_name": user.display_name, "role": user.role}
    )


async def list_codes(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    include_inactive = request.query.get("include_inactive") in ("true", "1")
    book = await request.app[API].codes.get()
    table = {"issue": book.issues, "action": book.actions, "status": book.statuses}[kind]
    rows = [dict(r) for r in table.values() if include_inactive or r["active"]]
    if kind == "issue":
        for row in rows:
            row["path"] = book.path(row["code"])
    return web.json_response({"codes": rows})


async def put_code(request: web.Request) -> web.Response:
    _supervisor(request)
    kind = request.match_info["kind"]
    body = await _body(request)
    row = codes_mod.clean_code(kind, {**body, "code": request.match_info["code"]})
    api = request.app[API]
    book = await api.codes.get()
    if kind == "issue" and row["parent"] and row["parent"] not in book.issues:
        raise ValidationError(f"code: its parent {row['parent']!r} does not exist; add the parent first")
    await api.store.upsert_codes(kind, [row])
    api.codes.invalidate()
    return web.json_response(row)


async def create_case(request: web.Request) -> web.Response:
    body = await _body(request)
    call_id = body.pop("call_id", None)
    case = await request.app[API].casework.create(data=body, actor=request[USER].username, call_id=call_id)
    return web.json_response(case, status=201, headers={"Location": f"/api/contacts/{case['id']}"})


async def get_case(request: web.Request) -> web.Response:
    api = request.app[API]
    case = await api.casework.get(contact_id=request.match_info["id"])
    if case["call_ids"]:
        case["recordings"] = [
            {
                "call_id": r["call_id"],
                "url": api.recording_link(r["recording_key"]),
                "duration_seconds": r["duration_seconds"],
            }
            for r in await api.store.recordings(case["call_ids"])
            if r["recording_key"]
        ]
    return web.json_response(case)


async def update_case(request: web.Request) -> web.Response:
    body = await _body(request)
    version = body.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ValidationError("version: the version you read, a whole number")
    case = await request.app[API].casework.update(
        contact_id=request.match_info["id"],
        data=body,
        fields=set(body),
        actor=request[USER].username,
        expected_version=version,
    )
    return web.json_response(case)


async def change_status(request: web.Request) -> web.Response:
    body = await _body(request)
    case = await request.app[API].casework.change_status(
        contact_id=request.match_info["id"],
        status=body.get("status"),
        note=body.get("note"),
        actor=request[USER].username,
    )
    return web.json_response(case)


async def escalate(request: web.Request) -> web.Response:
    body = await _body(request)
    case = await request.app[API].casework.escalate(
        contact_id=request.match_info["id"], reason=body.get("reason"), actor=request[USER].username
    )
    return web.json_response(case)


async def assign(request: web.Request) -> web.Response:
    body = await _body(request)
    user = request[USER]
    assignee = body.get("assignee")
    if assignee != user.username and not user.is_supervisor:
        raise web.HTTPForbidden(
            text=json.dumps({"error": "an agent may take a case, not give it to others"}),
            content_type="application/json",
        )
    case = await request.app[API].casework.assign(
        contact_id=request.match_info["id"], assignee=assignee, actor=user.username
    )
    return web.json_response(case)


async def add_action(request: web.Request) -> web.Response:
    body = await _body(request)
    case = await request.app[API].casework.add_action(
        contact_id=request.match_info["id"],
        action_code=body.get("action_code"),
        note=body.get("note"),
        actor=request[USER].username,
    )
    return web.json_response(case)


async def link_call(request: web.Request) -> web.Response:
    body = await _body(request)
    case = await request.app[API].casework.link_call(
        contact_id=request.match_info["id"], call_id=body.get("call_id"), actor=request[USER].username
    )
    return web.json_response(case)


async def timeline(request: web.Request) -> web.Response:
    events = await request.app[API].casework.timeline(contact_id=request.match_info["id"])
    return web.json_response({"events": events})


async def search_cases(request: web.Request) -> web.Response:
    api = request.app[API]
    book = await api.codes.get()
    rows = await search.search(store=api.store, book=book, query=dict(request.query))
    return web.json_response({"cases": [present(r, book) for r in rows]})


async def queue(request: web.Request) -> web.Response:
    api = request.app[API]
    book = await api.codes.get()
    query = {**request.query, "escalated_only": "true", "open_only": "true"}
    rows = await search.search(store=api.store, book=book, query=query)
    return web.json_response({"cases": [present(r, book) for r in rows]})


async def early_warning(request: web.Request) -> web.Response:
    days = search._whole(request.query.get("days"), "days", 14, 1, 365)
    threshold = search._whole(request.query.get("threshold"), "threshold", 3, 2, 100_000)
    prefix = request.query.get("issue_code") or "complaint"
    api = request.app[API]
    (await api.codes.get()).issue(prefix, for_new=False)
    rows = await api.store.lot_clusters(days=days, threshold=threshold, issue_prefix=prefix)
    for row in rows:
        row["first_at"] = row["first_at"].isoformat()
        row["last_at"] = row["last_at"].isoformat()
    return web.json_response({"days": days, "threshold": threshold, "clusters": rows})


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


# -- the console's pages --


async def enter(request: web.Request) -> web.Response:
    """Exchange a console token (from screenpop's pages) for this site's cookie, then go on to `next`."""
    api = request.app[API]
    token = request.query.get("token", "")
    user = console_tokens.verify(token, secret=api.secret)
    if user is None:
        raise web.HTTPUnauthorized(
            text="this link has expired or is not valid: open it again from the console"
        )
    target = request.query.get("next") or "/cases/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/cases/"):
        target = "/cases/"
    response = web.HTTPSeeOther(target)
    ttl = max(60, user.expires_at - int(time.time()))
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Lax", secure=request.secure, path="/", max_age=ttl
    )
    raise response


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB / name, headers={"Cache-Control": "no-store"})

    return handler


@web.middleware
async def page_headers(request: web.Request, handler):
    response = await handler(request)
    if request.path.startswith("/cases"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self';"
            " img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(app: web.Application, api: CaseApi) -> None:
    """Add the casework API, its OpenAPI document and the console's case pages to `app`."""
    app[API] = api
    app.middlewares.append(page_headers)
    app.middlewares.append(errors)
    r = app.router
    r.add_get("/api/openapi.json", openapi_document)
    r.add_get("/api/me", me)
    r.add_get(r"/api/codes/{kind:issue|action|status}", list_codes)
    r.add_put(r"/api/codes/{kind:issue|action|status}/{code}", put_code)
    r.add_post("/api/contacts", create_case)
    r.add_get("/api/contacts", search_cases)
    r.add_get("/api/contacts/{id}", get_case)
    r.add_patch("/api/contacts/{id}", update_case)
    r.add_post("/api/contacts/{id}/status", change_status)
    r.add_post("/api/contacts/{id}/escalate", escalate)
    r.add_post("/api/contacts/{id}/assign", assign)
    r.add_post("/api/contacts/{id}/actions", add_action)
    r.add_post("/api/contacts/{id}/calls", link_call)
    r.add_get("/api/contacts/{id}/timeline", timeline)
    r.add_get("/api/queue", queue)
    r.add_get("/api/early-warning", early_warning)
    r.add_get("/cases/enter", enter)
    r.add_get("/cases/", _page("index.html"))
    r.add_get("/cases/new", _page("new.html"))
    r.add_get("/cases/view", _page("case.html"))
    r.add_get("/cases/queue", _page("queue.html"))
    r.add_get("/cases/search", _page("search.html"))
    r.add_static("/cases/static", WEB / "static")
