"""Scanned letters: the upload page, the OCR draft, the agent's confirmation that opens the case, and the
scan shown from the case page. The scan's bytes reach a person only through here, after the console has
checked their session and casework has let them read the case: no link works for whoever holds it."""

from __future__ import annotations

from aiohttp import web
from crs.channels.v1 import channels_pb2 as pb
from crs.contacts.v1 import casework_pb2

from services.console.clients import as_json
from services.console.openapi import shapes
from services.console.permissions import audited, requires
from services.console.web import BadRequest, context, json_body, principal, render

routes = web.RouteTableDef()
# The file is sent as the request body (not a form), read here with its own limit: channels' is the same.
MAX_SCAN_BYTES = 3 * 1024 * 1024
OCR_LANGUAGES = ("auto", "eng", "fra", "deu", "spa", "jpn")
MAX_VERBATIM = 20000


async def _channels(request: web.Request, rpc: str, message):
    ctx = context(request)
    return await ctx.clients.call(
        getattr(ctx.clients.channels, rpc), message, principal(request), deadline=90
    )


async def _body_within(request: web.Request, limit: int) -> bytes | None:
    """The request's body, or None once it passes `limit` (the rest is not read)."""
    chunks, size = [], 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@routes.get("/letters/new")
@requires("cases.create")
async def upload_page(request: web.Request) -> web.Response:
    return render(request, "letters/new.html", languages=OCR_LANGUAGES, max_mib=MAX_SCAN_BYTES // 2**20)


@routes.post("/api/letters/drafts")
@requires("cases.create")
@shapes(reply=pb.LetterScan.DESCRIPTOR)
async def draft(request: web.Request) -> web.Response:
    """POST the scan's bytes as the body (?filename=&language=auto|eng|fra|deu|spa|jpn) -> the LetterScan
    with its OCR draft; 413 past the size limit, 400 for a file that is not a readable scan."""
    language = request.query.get("language", "auto")
    if language not in OCR_LANGUAGES:
        raise BadRequest(f"language: one of {', '.join(OCR_LANGUAGES)}")
    data = await _body_within(request, MAX_SCAN_BYTES)
    if data is None:
        return web.json_response(
            {"error": f"a scan may be at most {MAX_SCAN_BYTES // 2**20} MiB"}, status=413
        )
    message = pb.DraftLetterRequest(
        data=data, filename=request.query.get("filename", "")[:200], ocr_language=language
    )
    return web.json_response(as_json(await _channels(request, "DraftLetter", message)), status=201)


@routes.post("/api/letters/drafts/{id}/confirm")
@requires("cases.create")
@shapes(reply=pb.LetterScan.DESCRIPTOR)
async def confirm(request: web.Request) -> web.Response:
    """POST {"verbatim", "consumer_id"?, "reporter_name"?} -> the LetterScan with its new case."""
    body = await json_body(request)
    fields = {k: body.get(k, "") for k in ("verbatim", "consumer_id", "reporter_name")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise BadRequest("verbatim, consumer_id, reporter_name: text")
    if not fields["verbatim"].strip() or len(fields["verbatim"]) > MAX_VERBATIM:
        raise BadRequest(f"verbatim: 1 to {MAX_VERBATIM} characters")
    message = pb.ConfirmLetterRequest(
        scan_id=request.match_info["id"],
        verbatim=fields["verbatim"],
        consumer_id=fields["consumer_id"].strip(),
        reporter_name=fields["reporter_name"][:200],
    )
    return web.json_response(as_json(await _channels(request, "ConfirmLetter", message)), status=201)


async def _readable_case(request: web.Request, case_id: str) -> None:
    """Casework decides whether this person may read the case (a team's case, say); it raises if not."""
    ctx = context(request)
    await ctx.clients.call(
        ctx.clients.casework.GetCase, casework_pb2.GetCaseRequest(id=case_id), principal(request)
    )


@routes.get("/api/contacts/{id}/letters")
@requires("cases.read")
@shapes(reply=pb.ListLetterScansResponse.DESCRIPTOR)
async def list_scans(request: web.Request) -> web.Response:
    """GET -> {"scans": [LetterScan]}: the scanned letters on the case, without their bytes."""
    case_id = request.match_info["id"]
    await _readable_case(request, case_id)
    reply = await _channels(request, "ListLetterScans", pb.ListLetterScansRequest(case_id=case_id))
    return web.json_response(as_json(reply))


@routes.get("/letters/scans/{case_id}/{scan_id}")
@requires("cases.read")
@audited("letter.view", "case_id")
async def scan_file(request: web.Request) -> web.Response:
    """GET -> the scan as uploaded (PDF or image), inline, never cached."""
    case_id = request.match_info["case_id"]
    await _readable_case(request, case_id)
    found = await _channels(
        request,
        "GetLetterScan",
        pb.GetLetterScanRequest(case_id=case_id, scan_id=request.match_info["scan_id"]),
    )
    return web.Response(
        body=found.data,
        content_type=found.content_type,
        headers={
            "Content-Disposition": "inline",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
