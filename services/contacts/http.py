"""Contacts over HTTP: signed recording links, and health for probes."""

from __future__ import annotations

import logging

from aiohttp import web

from services.runtime import recordings

log = logging.getLogger(__name__)


def make_app(*, store: recordings.RecordingStore) -> web.Application:
    async def recording(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        expires = request.query.get("expires", "")
        signature = request.query.get("signature", "")
        if not recordings.verify_link(key, expires, signature):
            raise web.HTTPForbidden(text="this recording link is invalid or has expired")
        try:
            data = store.get(key)
        except (recordings.RecordingNotFound, ValueError):
            raise web.HTTPNotFound(text="no such recording") from None
        return web.Response(
            body=data,
            content_type="audio/wav",
            headers={"Cache-Control": "private, no-store", "Accept-Ranges": "none"},
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get(r"/recordings/{key:.+}", recording)
    app.router.add_get("/healthz", healthz)
    return app
