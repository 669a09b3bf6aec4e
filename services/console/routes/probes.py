"""Probes, metrics and the JSON API's OpenAPI document: open to anyone, carrying nobody's data."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.console import openapi
from services.console.permissions import public
from services.console.web import context

routes = web.RouteTableDef()


@routes.get("/healthz")
@public
async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@routes.get("/readyz")
@public
async def readyz(request: web.Request) -> web.Response:
    ctx = context(request)
    if not ctx.ready:
        return web.Response(status=503, text="starting or stopping")
    try:
        async with ctx.accounts.pool.connection(timeout=1) as conn:
            await conn.execute("SELECT 1")
    except Exception:
        return web.Response(status=503, text="database unreachable")
    return web.Response(text="ready")


@routes.get("/metrics")
@public
async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


@routes.get("/api/openapi.json")
@public
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document(request.app))
