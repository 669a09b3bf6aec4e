"""The one-click unsubscribe page (RFC 8058), public: the signed link in a survey or marketing email is the only
key, and the consumer has no login.

GET shows what the link would withdraw and a button, and changes nothing: mail scanners follow links.
POST withdraws it at once, whether from the button or from a mail client's own one-click request (a body
of `List-Unsubscribe=One-Click`, with no cookie and no CSRF token, as RFC 8058 sends it). Only outreach
holds the link secret, so both ask outreach, as the console itself: no person acts here. A bad, altered
or expired link gets a 400 page saying which.
"""

from __future__ import annotations

import logging

import grpc
from aiohttp import web
from crs.outreach.v1 import consent_pb2 as pb

from services.console.permissions import public
from services.console.web import context, render

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_TOKEN = 300
TEMPLATE = "public/unsubscribe.html"
# The page in the consumer's language; others fall back to English.
WORDS = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop {what} by {channel}?",
        "button": "Unsubscribe",
        "done": "You will get no more {what} by {channel}. Messages about your own orders and cases, and "
        "product safety notices, still reach you.",
        "bad": "This link cannot be used",
        "down": "This cannot be done right now. Please try the link again later.",
        "marketing": "offers and news",
        "surveys": "surveys",
        "email": "email",
        "letter": "post",
    },
    "fr": {
        "title": "Désabonnement",
        "ask": "Ne plus recevoir de {what} par {channel} ?",
        "button": "Me désabonner",
        "done": "Vous ne recevrez plus de {what} par {channel}. Les messages sur vos commandes et vos "
        "dossiers, et les avis de sécurité des produits, vous parviennent toujours.",
        "bad": "Ce lien ne peut pas être utilisé",
        "down": "Impossible pour le moment. Réessayez le lien plus tard.",
        "marketing": "offres et nouvelles",
        "surveys": "enquêtes",
        "email": "e-mail",
        "letter": "courrier",
    },
    "es": {
        "title": "Darse de baja",
        "ask": "¿Dejar de recibir {what} por {channel}?",
        "button": "Darme de baja",
        "done": "No recibirá más {what} por {channel}. Los mensajes sobre sus pedidos y casos, y los avisos "
        "de seguridad de productos, le siguen llegando.",
        "bad": "Este enlace no se puede usar",
        "down": "No es posible ahora. Vuelva a probar el enlace más tarde.",
        "marketing": "ofertas y novedades",
        "surveys": "encuestas",
        "email": "correo electrónico",
        "letter": "correo postal",
    },
}


def _words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["en"])


def _page(request: web.Request, *, status: int = 200, language: str = "en", **values) -> web.Response:
    response = render(request, TEMPLATE, status=status, words=_words(language), lang=language, **values)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


async def _ask(request: web.Request, method) -> web.Response:
    token = request.match_info["token"]
    words = _words("en")
    if len(token) > MAX_TOKEN:
        return _page(request, status=400, problem=words["bad"], detail="this is not an unsubscribe link")
    clients = context(request).clients
    try:
        answer = await clients.call(
            getattr(clients.consent, method), pb.UnsubscribeRequest(token=token), None
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            return _page(request, status=400, problem=words["bad"], detail=error.details())
        log.warning("unsubscribe: outreach answered %s", error.code().name)
        return _page(request, status=503, problem=words["title"], detail=words["down"])
    lang = answer.language if answer.language in WORDS else "en"
    w = _words(lang)
    what = {"what": w.get(answer.purpose, answer.purpose), "channel": w.get(answer.channel, answer.channel)}
    return _page(request, language=lang, action=request.path, done=answer.withdrawn, what=what)


@routes.get("/u/{token}")
@public
async def confirm(request: web.Request) -> web.Response:
    """GET /u/{token}: what the link would stop, and a button that POSTs back here; nothing changes."""
    return await _ask(request, "CheckUnsubscribe")


@routes.post("/u/{token}")
@public
async def one_click(request: web.Request) -> web.Response:
    """POST /u/{token} (body `List-Unsubscribe=One-Click`): withdraw the consent at once; 200 with a page."""
    return await _ask(request, "Unsubscribe")
