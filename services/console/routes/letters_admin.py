"""Letter templates, as an admin edits them and a supervisor proofs them: each standard letter per language,
its standard paragraphs, a PDF preview to a sample consumer, retirement, and the audited changes. Thin
routes: fulfillment validates and decides."""

from __future__ import annotations

from aiohttp import web
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import requires
from services.console.routes.fulfillment import _fulfillment, _pdf, _text
from services.console.web import BadRequest, json_body, render

routes = web.RouteTableDef()
MAX_PARAGRAPHS = 50  # fulfillment holds the real limit; this only bounds what is forwarded
MAX_TEXT = 5000


@routes.get("/admin/letters")
@requires("letters.read")
async def letters_page(request: web.Request) -> web.Response:
    return render(request, "fulfillment/letters.html")


@routes.get("/api/letter-templates")
@requires("letters.read")
@shapes(reply=pb.LetterTemplates.DESCRIPTOR)
async def letter_templates(request: web.Request) -> web.Response:
    """GET -> {"templates": [LetterTemplate], "offered": [name], "changes": [LetterTemplateChange]}."""
    return web.json_response(
        as_json(await _fulfillment(request, "ListLetterTemplates", pb.ListLetterTemplatesRequest()))
    )


@routes.get("/api/letters/offered")
@requires("fulfillment.request")
@shapes(reply=pb.OfferedLetters.DESCRIPTOR)
async def offered_letters(request: web.Request) -> web.Response:
    """GET -> {"names": [name]}: the letters a new request may choose, for the case page's Fulfil form."""
    return web.json_response(
        as_json(await _fulfillment(request, "ListOfferedLetters", pb.ListOfferedLettersRequest()))
    )


@routes.put("/api/letter-templates/{name}/{language}")
@requires("letters.manage")
@shapes(reply=pb.LetterTemplates.DESCRIPTOR)
async def save_letter_template(request: web.Request) -> web.Response:
    """PUT {"subject", "greeting", "paragraphs": [text], "closing"} -> LetterTemplates: the template in
    that language created or changed, offered for the next letter."""
    body = await json_body(request)
    paragraphs = body.get("paragraphs")
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise BadRequest("paragraphs: a list of texts")
    message = pb.LetterTemplate(
        name=request.match_info["name"][:100],
        language=request.match_info["language"][:10],
        subject=_text(body, "subject", MAX_TEXT),
        greeting=_text(body, "greeting", MAX_TEXT),
        paragraphs=[p[:MAX_TEXT] for p in paragraphs[:MAX_PARAGRAPHS]],
        closing=_text(body, "closing", MAX_TEXT),
    )
    return web.json_response(as_json(await _fulfillment(request, "SaveLetterTemplate", message)))


@routes.delete("/api/letter-templates/{name}")
@requires("letters.manage")
@shapes(reply=pb.LetterTemplates.DESCRIPTOR)
async def retire_letter_template(request: web.Request) -> web.Response:
    """DELETE -> LetterTemplates: every language retired; letters already printed from it keep it."""
    message = pb.RetireLetterTemplateRequest(name=request.match_info["name"][:100])
    return web.json_response(as_json(await _fulfillment(request, "RetireLetterTemplate", message)))


@routes.get("/api/letter-templates/{name}/{language}/preview")
@requires("letters.read")
async def preview_letter_template(request: web.Request) -> web.Response:
    """GET -> the template as a PDF, addressed to a sample consumer of that language."""
    name, language = request.match_info["name"][:100], request.match_info["language"][:10]
    message = pb.PreviewLetterTemplateRequest(name=name, language=language)
    return _pdf(await _fulfillment(request, "PreviewLetterTemplate", message), f"template-{name}-{language}")


@routes.get("/api/standard-paragraphs")
@requires("letters.read")
@shapes(reply=pb.StandardParagraphs.DESCRIPTOR)
async def standard_paragraphs(request: web.Request) -> web.Response:
    """GET -> {"paragraphs": [StandardParagraph]}: the library letter templates name."""
    return web.json_response(
        as_json(await _fulfillment(request, "ListStandardParagraphs", pb.ListStandardParagraphsRequest()))
    )


@routes.put("/api/standard-paragraphs/{name}/{language}")
@requires("letters.manage")
@shapes(reply=pb.StandardParagraphs.DESCRIPTOR)
async def save_standard_paragraph(request: web.Request) -> web.Response:
    """PUT {"text"} -> StandardParagraphs: the paragraph in that language created or changed; every letter
    rendered afterwards that names it prints the new text."""
    body = await json_body(request)
    message = pb.StandardParagraph(
        name=request.match_info["name"][:100],
        language=request.match_info["language"][:10],
        text=_text(body, "text", MAX_TEXT),
    )
    return web.json_response(as_json(await _fulfillment(request, "SaveStandardParagraph", message)))


@routes.delete("/api/standard-paragraphs/{name}")
@requires("letters.manage")
@shapes(reply=pb.StandardParagraphs.DESCRIPTOR)
async def retire_standard_paragraph(request: web.Request) -> web.Response:
    """DELETE -> StandardParagraphs: every language retired; refused while a template in use names it."""
    message = pb.RetireStandardParagraphRequest(name=request.match_info["name"][:100])
    return web.json_response(as_json(await _fulfillment(request, "RetireStandardParagraph", message)))
