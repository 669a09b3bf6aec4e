"""The public web form over HTTP (aiohttp): the page, its suggestions and deflections, JSON or form posts.

Without JavaScript the page works whole: "Find answers first" posts the form back with the suggestions
under it, and each suggestion's "This answered my question" is a small form of its own. With JavaScript
(static/suggest.js) the suggestions appear as the consumer types, from GET /intake/suggest.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Callable

from aiohttp import web

from services.channels.web_form import (
    AGAIN,
    COUNTED,
    MAX_FORM,
    TOPICS,
    InvalidForm,
    Limited,
    Suggestions,
    WebForm,
    answer_id_of,
)
from services.runtime import pages

WEB = pathlib.Path(__file__).resolve().parent / "web"
TEMPLATES = pages.templates(WEB / "templates")
WEB_FORM = web.AppKey("web_form", WebForm)
CLIENT = web.AppKey("client", Callable[[web.Request], str])
MAX_ARTICLE_ID = 200
TOO_MANY = "too many messages from your address; please try again in a minute"


def _form_page(
    *, error: str = "", values: dict | None = None, suggestions: Suggestions | None = None, status: int = 200
) -> web.Response:
    return pages.render(
        TEMPLATES,
        "intake_form.html",
        status=status,
        error=error,
        values=values or {},
        topics=TOPICS,
        suggestions=suggestions,
    )


def _limited(limited: Limited, wants_json: bool) -> web.Response:
    headers = {"Retry-After": str(max(1, math.ceil(limited.wait_seconds)))}
    if wants_json:
        return web.json_response({"error": TOO_MANY}, status=429, headers=headers)
    return web.Response(text=TOO_MANY, status=429, headers=headers)


async def _read_form(request: web.Request) -> tuple[dict, bool]:
    """The posted fields and whether the caller speaks JSON; InvalidForm for a body that is neither."""
    if request.content_type == "application/json":
        try:
            form = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise InvalidForm("the body is not valid JSON") from None
        if not isinstance(form, dict):
            raise InvalidForm("the body must be a JSON object")
        return form, True
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}, False
    raise InvalidForm("send the form as application/json or as a web form")


def _suggestions_json(found: Suggestions) -> dict:
    return {
        "answer_id": found.answer_id,
        "safety": found.safety,
        "articles": [
            {
                "id": a.id,
                "title": a.title,
                "body": a.body,
                "language": a.language,
                "score": a.score,
                "other_language": a.other_language,
            }
            for a in found.articles
        ],
    }


async def show_form(request: web.Request) -> web.Response:
    return _form_page()


async def submit(request: web.Request) -> web.Response:
    """POST /intake: JSON in, JSON out; a form post gets a page back. `action=suggest` (the no-script
    button) shows the form again with the articles that may answer it, and sends nothing."""
    web_form, client = request.app[WEB_FORM], request.app[CLIENT](request)
    form: dict = {}
    wants_json = request.content_type == "application/json"
    try:
        form, wants_json = await _read_form(request)
        if not wants_json and form.pop("action", "") == "suggest":
            return await _suggest_page(web_form, form, client)
        result = await web_form.submit(form, client=client)
    except InvalidForm as exc:
        if wants_json:
            return web.json_response({"error": str(exc)}, status=400)
        shown = {k: v for k, v in form.items() if isinstance(v, str)}
        return _form_page(error=str(exc), values=shown, status=400)
    if isinstance(result, Limited):
        return _limited(result, wants_json)
    if wants_json:
        return web.json_response({"reference": result.reference}, status=201)
    return pages.render(TEMPLATES, "intake_thanks.html", status=201, reference=result.reference)


async def _suggest_page(web_form: WebForm, form: dict, client: str) -> web.Response:
    # Knowledge reads the language from the question: the page's own may not be the consumer's.
    found = await web_form.suggest(form.get("message", ""), language="", client=client)
    if isinstance(found, Limited):
        return _limited(found, False)
    values = {k: v for k, v in form.items() if k != "website"}
    values["answer_id"] = str(found.answer_id) if found.articles else ""
    return _form_page(values=values, suggestions=found)


async def suggest(request: web.Request) -> web.Response:
    """GET /intake/suggest?question=…&language=…: the articles that may answer it, as JSON."""
    web_form, client = request.app[WEB_FORM], request.app[CLIENT](request)
    found = await web_form.suggest(
        request.query.get("question", ""), language=request.query.get("language", "")[:35], client=client
    )
    if isinstance(found, Limited):
        return _limited(found, True)
    return web.json_response(_suggestions_json(found))


async def answered(request: web.Request) -> web.Response:
    """POST /intake/answered (answer_id, article_id): the consumer needs nothing more; no case is made."""
    web_form, client = request.app[WEB_FORM], request.app[CLIENT](request)
    wants_json = request.content_type == "application/json"
    try:
        form, wants_json = await _read_form(request)
        answer_id, article_id = answer_id_of(form.get("answer_id")), form.get("article_id")
        if not answer_id or not isinstance(article_id, str) or not 0 < len(article_id) <= MAX_ARTICLE_ID:
            raise InvalidForm("answer_id and article_id: name the suggestion that answered you")
    except InvalidForm as exc:
        if wants_json:
            return web.json_response({"error": str(exc)}, status=400)
        return web.Response(text=str(exc), status=400)
    result = await web_form.answered(answer_id, article_id, client=client)
    if isinstance(result, Limited):
        return _limited(result, wants_json)
    if result not in (COUNTED, AGAIN):
        message = "that article was not suggested here"
        if wants_json:
            return web.json_response({"error": message}, status=404)
        return web.Response(text=message, status=404)
    if wants_json:
        return web.json_response({"counted": result == COUNTED})
    return pages.render(TEMPLATES, "intake_answered.html")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def app(web_form: WebForm, client: Callable[[web.Request], str]) -> web.Application:
    """The form's routes, with the shared security headers and the form's own static files."""
    application = web.Application(client_max_size=MAX_FORM, middlewares=[pages.security_headers])
    application[WEB_FORM] = web_form
    application[CLIENT] = client
    pages.add_static(application, WEB / "static")
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/intake", show_form)
    application.router.add_post("/intake", submit)
    application.router.add_get("/intake/suggest", suggest)
    application.router.add_post("/intake/answered", answered)
    return application
