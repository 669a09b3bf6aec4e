"""The public survey routes: a signed link opens the page, a one-click link records its score, the form posts
back to the same address. Public because a consumer has no login: the signed, expiring token is the only
key, and a bad one gets a plain page saying why (410).

`desk` answers for outreach: `open(token)` -> (kind, language, poll questions, the score a one-click link
carries) and `answer(token, scores, comment)`. It raises SurveyGone, AnswerRefused or SurveyUnavailable,
defined here, so the routes know nothing of how outreach is reached (services/console/routes/survey_answers.py
asks over gRPC).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from aiohttp import web

from services.console import survey_page
from services.console.permissions import public
from services.console.web import TEMPLATES
from services.runtime import pages

DESK = web.AppKey("survey_desk", object)
TEMPLATE = "public/survey.html"
_ENV = pages.templates(TEMPLATES)


class SurveyGone(Exception):
    """An altered or expired link, or a survey no longer held; the message is shown to the consumer."""


class SurveyUnavailable(Exception):
    """Outreach cannot be asked right now; the consumer is asked to try the link again later."""


class AnswerRefused(ValueError):
    def __init__(self, question: str, message: str):
        super().__init__(message)
        self.question = question


@dataclass(frozen=True)
class SurveyView:
    kind: str
    language: str
    poll: list[dict] = field(default_factory=list)
    score: int | None = None


def _page(request: web.Request, view: SurveyView, *, status: int = 200, **kwargs) -> web.Response:
    ctx = survey_page.context(view.kind, view.language, action=request.path, poll=view.poll, **kwargs)
    response = pages.render(_ENV, TEMPLATE, status=status, **ctx)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


def _gone(error: SurveyGone | SurveyUnavailable) -> web.Response:
    view = survey_page.words_for("en")
    down = isinstance(error, SurveyUnavailable)
    reason = (
        "This cannot be done right now. Please try the link again later." if down else html.escape(str(error))
    )
    body = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{view['title']}</title></head>"
        f"<body><main><h1>{view['title']}</h1><p>{reason}</p></main></body></html>"
    )
    response = web.Response(status=503 if down else 410, text=body, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@public
async def show(request: web.Request) -> web.Response:
    """GET /s/{token}: the page; a one-click link (csat, nps) records its score and thanks."""
    desk, token = request.app[DESK], request.match_info["token"]
    try:
        view = await desk.open(token)
        if view.score is not None and view.kind != "poll":
            await desk.answer(token, {"score": str(view.score)}, "")
            return _page(request, view, thanks=True)
    except (SurveyGone, SurveyUnavailable) as error:
        return _gone(error)
    return _page(request, view, chosen={"score": view.score} if view.score is not None else {})


@public
async def submit(request: web.Request) -> web.Response:
    """POST /s/{token} (form): record the answer, or the page again with the error at its question."""
    desk, token = request.app[DESK], request.match_info["token"]
    form = await request.post()
    comment = str(form.get("comment", ""))
    scores = {k: str(v) for k, v in form.items() if k != "comment"}
    try:
        view = await desk.open(token)
        await desk.answer(token, scores, comment)
    except (SurveyGone, SurveyUnavailable) as error:
        return _gone(error)
    except AnswerRefused as error:
        chosen = {k: int(v) for k, v in scores.items() if v.isdigit()}
        errors = {error.question: str(error)}
        return _page(request, view, status=422, errors=errors, chosen=chosen, comment=comment)
    return _page(request, view, thanks=True)


def routes() -> list[web.RouteDef]:
    return [web.get("/s/{token}", show), web.post("/s/{token}", submit)]
