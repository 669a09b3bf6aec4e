"""The agent console's pages: log-in, the live pop board, a consumer's page, a new consumer.

Pages are rendered here as plain HTML with every value escaped; the live pop is drawn in the browser by
web/static/console.js from the socket's messages (with textContent, never as HTML).
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.runtime import console_tokens
from services.runtime.settings import env
from services.screenpop import auth, compose
from services.screenpop.auth import Principal
from services.screenpop.sources import error_text
from services.screenpop.web import (
    COOKIE,
    context,
    login,
    open_session,
    principal_of,
    session_token,
    set_session_cookie,
)

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).resolve().parent / "web" / "static"
MAX_NAME = 200


def page(title: str, body: str, principal: Principal | None = None, *, script: bool = False) -> web.Response:
    bar = ""
    if principal is not None:
        ext = escape(principal.extension or "none")
        role = "Supervisor" if principal.is_supervisor else "Agent"
        bar = f"""
<header class="bar">
  <a class="brand" href="/">CRS <span>Console</span></a>
  <span class="who"><b>{escape(principal.display_name)}</b> · {role} · ext <b id="my-ext">{ext}</b></span>
  <nav class="cases"><a href="/cases/go?next=/cases/queue">{"Escalations" if principal.is_supervisor else "Cases"}</a>
    <a href="/cases/go?next=/cases/search">Search</a></nav>
  <span id="status" class="status idle">Connecting…</span>
  <form method="post" action="/logout" class="logout">
    <input type="hidden" name="csrf" value="{escape(principal.csrf_token)}">
    <button type="submit">Log out</button>
  </form>
</header>"""
    csrf_meta = f'<meta name="csrf" content="{escape(principal.csrf_token)}">' if principal else ""
    js = '<script src="/static/console.js" defer></script>' if script else ""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · CRS</title>{csrf_meta}
<link rel="stylesheet" href="/static/console.css">{js}</head>
<body>{bar}<main>{body}</main></body></html>"""
    return web.Response(text=html, content_type="text/html")


async def require(request: web.Request) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise web.HTTPSeeOther("/login")
    return principal


def check_form(request: web.Request, principal: Principal, form) -> None:
    """Forms must carry the session's CSRF token and come from our own pages."""
    if not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        raise web.HTTPForbidden(text="cross-origin form refused")
    if not auth.csrf_ok(principal.csrf_token, form.get("csrf")):
        raise web.HTTPForbidden(text="the form expired; reload the page and try again")


# -- log-in --


def login_page(error: str = "", username: str = "") -> web.Response:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""
<section class="login">
  <h1>CRS <span>Console</span></h1>
  <form method="post" action="/login">
    {message}
    <label>Username <input name="username" autocomplete="username" required autofocus
      value="{escape(username)}" maxlength="64"></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required
      maxlength="256"></label>
    <button type="submit" class="primary">Log in</button>
  </form>
</section>"""
    response = page("Log in", body)
    if error:
        response.set_status(401)
    return response


async def get_login(request: web.Request) -> web.Response:
    if await principal_of(request) is not None:
        raise web.HTTPSeeOther("/")
    return login_page()


async def post_login(request: web.Request) -> web.Response:
    # No session yet, so no CSRF token: the Origin check and the SameSite=Strict cookie guard log-in.
    if not auth.same_origin(request.headers.get("Origin"), request.host, request.scheme):
        raise web.HTTPForbidden(text="cross-origin log-in refused")
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    ctx = context(request)
    agent_id = await login(ctx, username, password)
    if agent_id is None:
        return login_page("Wrong username or password.", username[:64])
    token = await open_session(ctx, agent_id, "browser")
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, request, token)
    raise response


async def post_logout(request: web.Request) -> web.Response:
    principal = await require(request)
    check_form(request, principal, await request.post())
    token, _ = session_token(request)
    if token:
        await context(request).store.close_session(token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


# -- the live board --


async def get_console(request: web.Request) -> web.Response:
    principal = await require(request)
    watch = principal.watchable()
    if not watch:
        body = '<p class="empty">No extension is assigned to you. Ask a supervisor to assign one.</p>'
        return page("Console", body, principal)
    panels = "".join(
        f"""<section class="pop" data-extension="{escape(ext)}" aria-live="polite">
  <h2>Extension {escape(ext)} <span class="state" data-role="state">Idle</span></h2>
  <div class="pop-body" data-role="body"><p class="empty">Waiting for a call.</p></div>
</section>"""
        for ext in watch
    )
    layout = "board team" if len(watch) > 1 else "board"
    return page("Console", f'<div class="{layout}">{panels}</div>', principal, script=True)


# -- a consumer --


def money(value: dict[str, Any] | None) -> str:
    formatted = compose.format_money(value)
    return escape(formatted["display"]) if formatted else "—"


def when(value: str | None) -> str:
    if not value:
        return "—"
    return f'<time datetime="{escape(value)}">{escape(value[:16].replace("T", " "))}</time>'


async def _ask(work, deadline: float):
    try:
        return await asyncio.wait_for(work, timeout=deadline), None
    except Exception as exc:
        return None, error_text(exc) if not isinstance(
            exc, TimeoutError
        ) else "the service did not answer in time"


def order_items(order: dict[str, Any]) -> str:
    return ", ".join(
        f"{line.get('quantity', 0)} x {(line.get('product') or {}).get('name', '')}"
        for line in order.get("lines", [])
    )


def _gap(what: str, why: str) -> str:
    return f'<p class="gap">{escape(what)}: {escape(why)}.</p>'


async def get_consumer(request: web.Request) -> web.Response:
    principal = await require(request)
    ctx = context(request)
    consumer_id = request.match_info["consumer_id"]
    if len(consumer_id) > 64:
        raise web.HTTPNotFound(text="no such consumer")
    d = ctx.page_deadline
    s = ctx.sources
    (
        (consumer, c_err),
        (contacts, h_err),
        (account, b_err),
        (ledger, _),
        (history, f_err),
    ) = await asyncio.gather(
        _ask(s.get_consumer(consumer_id=consumer_id, deadline=d), d),
        _ask(s.recent_contacts(consumer_id=consumer_id, deadline=d), d),
        _ask(s.account_summary(consumer_id=consumer_id, deadline=d), d),
        _ask(s.ledger(consumer_id=consumer_id, deadline=d), d),
        _ask(s.purchase_history(consumer_id=consumer_id, deadline=d, last_orders=10), d),
    )
    if consumer is None:
        status = 404 if c_err == "not found" else 503
        body = f'<p class="error">This consumer could not be shown: {escape(c_err or "unknown error")}.</p>'
        response = page("Consumer", body, principal)
        response.set_status(status)
        return response

    phones = "".join(
        f"<li>{escape(p.get('number', ''))} <small>{escape(p.get('type', ''))}"
        f"{' · former' if p.get('valid_to') else ''}</small></li>"
        for p in consumer.get("phones", [])
    )
    emails = "".join(f"<li>{escape(e.get('address', ''))}</li>" for e in consumer.get("emails", []))
    addresses = "".join(
        f"<li><pre>{escape(a.get('formatted') or ', '.join(a.get('address_lines', [])))}</pre></li>"
        for a in consumer.get("addresses", [])
    )
    profile = f"""<section class="card profile">
  <h2>Profile</h2>
  <dl><dt>Language</dt><dd>{escape(consumer.get("language") or "—")}</dd>
  <dt>Since</dt><dd>{when(consumer.get("created_at"))}</dd>
  <dt>Last contact</dt><dd>{when(consumer.get("last_contact_at"))}</dd></dl>
  <h3>Phones</h3><ul class="plain">{phones or "<li>—</li>"}</ul>
  <h3>Emails</h3><ul class="plain">{emails or "<li>—</li>"}</ul>
  <h3>Addresses</h3><ul class="plain">{addresses or "<li>—</li>"}</ul>
</section>"""

    if account is None:
        billing = _gap("Billing", b_err or "unavailable")
    else:
        terms = account.get("credit_terms") or {}
        entries = "".join(
            f"<tr><td>{when(e.get('posted_at'))}</td><td>{escape(e.get('kind', ''))}</td>"
            f"<td>{escape(e.get('reference', ''))}</td><td class='num'>{money(e.get('amount'))}</td></tr>"
            for e in (ledger or {}).get("entries", [])
        )
        status = escape(str(terms.get("status", "—")).replace("_", " "))
        billing = f"""<dl class="figures">
  <dt>Balance</dt><dd class="big" data-role="balance">{money(account.get("balance"))}</dd>
  <dt>Credit limit</dt><dd>{money(terms.get("limit"))}</dd>
  <dt>Terms</dt><dd data-role="terms">{escape(terms.get("payment_terms") or "—")}</dd>
  <dt>Status</dt><dd><span class="badge {status.replace(" ", "-")}">{status}</span></dd></dl>
  <table><thead><tr><th>Posted</th><th>Kind</th><th>Reference</th><th class="num">Amount</th></tr></thead>
  <tbody>{entries or '<tr><td colspan="4">No ledger entries.</td></tr>'}</tbody></table>"""

    if history is None:
        purchases = _gap("Purchases", f_err or "unavailable")
    else:
        rows = "".join(
            f"<tr><td>{when(o.get('placed_at'))}</td><td>{escape(o.get('channel', ''))}</td>"
            f"<td>{escape(order_items(o))}</td>"
            f"<td>{escape(o.get('status', ''))}</td><td class='num'>{money(o.get('total'))}</td></tr>"
            for o in history.get("orders", [])
        )
        purchases = f"""<table><thead><tr><th>Placed</th><th>Channel</th><th>Items</th><th>Status</th>
  <th class="num">Total</th></tr></thead>
  <tbody>{rows or '<tr><td colspan="5">No purchases.</td></tr>'}</tbody></table>"""

    if contacts is None:
        timeline = _gap("Contact history", h_err or "unavailable")
    else:
        items = "".join(
            f"<tr><td>{when(c.get('occurred_at'))}</td><td>{escape(c.get('channel', ''))} "
            f"{escape(c.get('direction', ''))}</td><td>{escape(c.get('summary', ''))}</td>"
            f"<td>{escape(c.get('status', ''))}</td><td>"
            + (
                f'<a href="{escape(c["recording_url"])}" rel="noreferrer">Recording</a>'
                if str(c.get("recording_url", "")).startswith(("http://", "https://", "/"))
                else "—"
            )
            + "</td></tr>"
            for c in contacts.get("contacts", [])
        )
        timeline = f"""<table><thead><tr><th>When</th><th>Channel</th><th>Summary</th><th>Status</th>
  <th>Recording</th></tr></thead><tbody>{items or '<tr><td colspan="5">No contacts yet.</td></tr>'}</tbody>
  </table>"""

    body = f"""<nav class="crumbs"><a href="/">← Console</a></nav>
<h1 class="consumer-name">{escape(consumer.get("name") or "(no name)")}</h1>
<div class="consumer">
  {profile}
  <section class="card"><h2>Account</h2>{billing}</section>
  <section class="card wide"><h2>Purchases</h2>{purchases}</section>
  <section class="card wide"><h2>Contact history</h2>{timeline}</section>
</div>"""
    return page(consumer.get("name") or "Consumer", body, principal)


def new_consumer_form(principal: Principal, *, number: str = "", name: str = "", error: str = "") -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<nav class="crumbs"><a href="/">← Console</a></nav>
<section class="card narrow"><h1>New consumer</h1>
<form method="post" action="/consumers" class="stacked">{message}
  <input type="hidden" name="csrf" value="{escape(principal.csrf_token)}">
  <label>Name <input name="name" required maxlength="{MAX_NAME}" value="{escape(name)}"></label>
  <label>Phone <input name="number" maxlength="40" value="{escape(number)}"></label>
  <label>Email <input name="email" type="email" maxlength="254"></label>
  <label>Language <input name="language" value="en" maxlength="35"></label>
  <button type="submit" class="primary">Create consumer</button>
</form></section>"""


async def get_new_consumer(request: web.Request) -> web.Response:
    principal = await require(request)
    number = request.query.get("number", "")[:40]
    return page("New consumer", new_consumer_form(principal, number=number), principal)


async def post_consumer(request: web.Request) -> web.Response:
    principal = await require(request)
    form = await request.post()
    check_form(request, principal, form)
    name = str(form.get("name", "")).strip()
    number = str(form.get("number", "")).strip()
    if not name or len(name) > MAX_NAME:
        body = new_consumer_form(
            principal, number=number[:40], name=name[:MAX_NAME], error="A name is needed."
        )
        response = page("New consumer", body, principal)
        response.set_status(400)
        return response
    ctx = context(request)
    try:
        created = await ctx.sources.create_consumer(
            name=name,
            number=number[:40],
            language=str(form.get("language", "en")).strip()[:35] or "en",
            email=str(form.get("email", "")).strip()[:254],
            region=ctx.region,
            deadline=ctx.page_deadline * 2,
        )
    except Exception as exc:
        log.warning("creating a consumer failed: %s", type(exc).__name__)
        body = new_consumer_form(principal, number=number[:40], name=name, error=error_text(exc).capitalize())
        response = page("New consumer", body, principal)
        response.set_status(400)
        return response
    raise web.HTTPSeeOther(f"/consumers/{created['id']}")


CASES_LINK_TTL = 60


async def go_to_cases(request: web.Request) -> web.Response:
    """Carry the logged-in user to the casework pages (served by contacts) with a one-minute signed token."""
    principal = await require(request)
    target = request.query.get("next", "/cases/queue")
    if not target.startswith("/cases/") or "//" in target or "\\" in target:
        raise web.HTTPBadRequest(text="next: a casework page, such as /cases/new or /cases/queue")
    token = console_tokens.mint(
        secret=console_tokens.secret_from_env(),
        username=principal.username,
        display_name=principal.display_name,
        role="supervisor" if principal.is_supervisor else "agent",
        ttl_seconds=CASES_LINK_TTL,
    )
    base = env("CRS_CONTACTS_PUBLIC_URL", "http://127.0.0.1:8081").rstrip("/")
    raise web.HTTPSeeOther(f"{base}/cases/enter?{urlencode({'token': token, 'next': target})}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", get_console)
    app.router.add_get("/cases/go", go_to_cases)
    app.router.add_get("/login", get_login)
    app.router.add_post("/login", post_login)
    app.router.add_post("/logout", post_logout)
    app.router.add_get("/consumers/new", get_new_consumer)
    app.router.add_post("/consumers", post_consumer)
    app.router.add_get("/consumers/{consumer_id}", get_consumer)
    app.router.add_static("/static/", STATIC, show_index=False)
