"""The knowledge base in the console: suggestions beside the capture form, search for agents, and the review
of articles for supervisors and admins. Each a call to the knowledge service, as the person asking.

Suggestions are only suggestions: the capture form shows them and the agent picks; nothing here codes a
contact.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from crs.contacts.v1 import casework_pb2
from crs.knowledge.v1 import knowledge_pb2 as pb

from services.console.clients import as_json
from services.console.permissions import requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()
MAX_TEXT = 4000
LANGUAGE_OR_EMPTY = 2


def _words(value, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequest(f"{name}: text")
    value = value.strip()
    if required and not value:
        raise BadRequest(f"{name}: say something to look for")
    if len(value) > limit:
        raise BadRequest(f"{name}: at most {limit} characters")
    return value


def _language(value) -> str:
    value = _words(value, "language", limit=LANGUAGE_OR_EMPTY).lower()
    if value and not value.isalpha():
        raise BadRequest("language: a two-letter code such as en or fr")
    return value


async def _knowledge(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(getattr(ctx.clients.knowledge, rpc), message, principal(request))


def _hits(reply) -> list[dict]:
    return [
        {
            "id": h.article.id,
            "language": h.article.language,
            "kind": h.article.kind,
            "product_sku": h.article.product_sku,
            "title": h.article.title,
            "body": h.article.body,
            "score": round(h.score, 4),
            "other_language": h.other_language,
        }
        for h in reply.hits
    ]


@routes.post("/api/assist")
@requires("knowledge.read")
async def assist(request: web.Request) -> web.Response:
    """POST {"verbatim", "language"?, "product_sku"?} -> {"codes": [{code, score, path}], "articles": [...],
    "model_version", "language"}: while a contact is captured, the likely issue codes (only codes in use)
    and the articles that answer it."""
    body = await json_body(request)
    verbatim = _words(body.get("verbatim"), "verbatim", required=True)
    language = _language(body.get("language"))
    sku = _words(body.get("product_sku"), "product_sku", limit=64)
    ctx = context(request)
    codes, found, book = await asyncio.gather(
        _knowledge(request, "SuggestCodes", pb.SuggestCodesRequest(verbatim=verbatim, language=language)),
        _knowledge(
            request, "Search", pb.SearchRequest(query=verbatim, language=language, product_sku=sku, limit=3)
        ),
        ctx.clients.call(
            ctx.clients.casework.ListCodes, casework_pb2.ListCodesRequest(kind="issue"), principal(request)
        ),
    )
    paths = {c.code: c.path or c.label for c in book.codes if c.active}
    suggested = [
        {"code": c.code, "score": round(c.score, 4), "path": paths[c.code]}
        for c in codes.codes
        if c.code in paths
    ]
    return web.json_response(
        {
            "codes": suggested,
            "articles": _hits(found),
            "model_version": codes.model_version,
            "language": found.language,
        }
    )


@routes.get("/api/knowledge/search")
@requires("knowledge.read")
async def search(request: web.Request) -> web.Response:
    """GET ?q=&language=&product_sku= -> {"articles": [...], "language"}: published articles, best first;
    `other_language` says an article is not in the question's language."""
    q = request.query
    message = pb.SearchRequest(
        query=_words(q.get("q"), "q", required=True),
        language=_language(q.get("language")),
        product_sku=_words(q.get("product_sku"), "product_sku", limit=64),
        limit=8,
    )
    reply = await _knowledge(request, "Search", message)
    return web.json_response({"articles": _hits(reply), "language": reply.language})


@routes.get("/api/knowledge/articles")
@requires("knowledge.write")
async def list_articles(request: web.Request) -> web.Response:
    """GET -> {"articles": [Article]}: the newest version of every article and language, drafts too."""
    return web.json_response(as_json(await _knowledge(request, "ListArticles", pb.ListArticlesRequest())))


async def _change(request: web.Request, rpc: str) -> web.Response:
    # The service's refusals (not found, the author reviewing their own, not reviewed yet) come back as
    # 404, 403 or 400 with its reason, through the api_errors middleware.
    message = pb.ChangeStateRequest(id=request.match_info["id"], language=request.match_info["language"])
    return web.json_response(as_json(await _knowledge(request, rpc, message)))


@routes.post(r"/api/knowledge/articles/{id}/{language:[a-z]{2}}/review")
@requires("knowledge.write")
async def review(request: web.Request) -> web.Response:
    """POST -> the Article, reviewed by the person asking (never its author)."""
    return await _change(request, "Review")


@routes.post(r"/api/knowledge/articles/{id}/{language:[a-z]{2}}/publish")
@requires("knowledge.write")
async def publish(request: web.Request) -> web.Response:
    """POST -> the Article, published: search finds it from now on."""
    return await _change(request, "Publish")


@routes.get("/knowledge/")
@requires("knowledge.read")
async def search_page(request: web.Request) -> web.Response:
    return render(request, "knowledge/search.html")


@routes.get("/knowledge/review")
@requires("knowledge.write")
async def review_page(request: web.Request) -> web.Response:
    return render(request, "knowledge/review.html")


@routes.get("/knowledge/answers")
@requires("knowledge.write")
async def answers_page(request: web.Request) -> web.Response:
    return render(request, "knowledge/answers.html")


@routes.get("/api/knowledge/answers")
@requires("knowledge.write")
async def answer_report(request: web.Request) -> web.Response:
    """GET ?days= -> {"counts": [{channel, outcome, hand_off_reason, count}], "answer_threshold",
    "threshold_changed_by", "threshold_changed_at", "days"}: how the automated answers ended."""
    raw = request.query.get("days", "")
    if raw and not raw.isdigit():
        raise BadRequest("days: a whole number of days")
    reply = await _knowledge(request, "AnswerReport", pb.AnswerReportRequest(days=int(raw or 0)))
    return web.json_response(as_json(reply))


@routes.post("/api/knowledge/threshold")
@requires("knowledge.configure")
async def set_threshold(request: web.Request) -> web.Response:
    """POST {"answer_threshold": 0..1} -> {"answer_threshold"}: below it, the bot hands off to a person."""
    value = (await json_body(request)).get("answer_threshold")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest("answer_threshold: a number between 0 and 1")
    reply = await _knowledge(request, "SetThreshold", pb.SetThresholdRequest(answer_threshold=value))
    return web.json_response(as_json(reply))
