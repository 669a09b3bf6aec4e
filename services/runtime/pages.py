"""What every web entrance of CRS shares: Jinja2 templates with autoescape, one set of security headers
with a strict Content-Security-Policy, and static files served with cache headers.

Pages are built from templates only; nothing in the project builds HTML by string formatting.
"""

from __future__ import annotations

import hashlib
import pathlib

import jinja2
from aiohttp import web

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self'; "
    "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
STATIC_PREFIX = "/static/"
# Static files are named by path, not by content, so a day's cache keeps a new release from being held
# back for long while sparing the pages most of their requests.
STATIC_MAX_AGE = 86_400


def templates(*folders: pathlib.Path) -> jinja2.Environment:
    """A template environment over `folders`, autoescaping every template, failing on undefined names."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, *, status: int = 200, **context) -> web.Response:
    return web.Response(
        text=env.get_template(name).render(**context), status=status, content_type="text/html"
    )


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _secure(request, response)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(STATIC_PREFIX) and response.status == 200:
        headers.setdefault("Cache-Control", f"public, max-age={STATIC_MAX_AGE}")
    else:
        headers.setdefault("Cache-Control", "no-store")


def add_static(app: web.Application, folder: pathlib.Path) -> None:
    """Serve the files in `folder` under /static/, each with an ETag from its content.

    The folder ships with the package and is read once here, so a request can name nothing outside it.
    """
    files = {
        path.relative_to(folder).as_posix(): (path, hashlib.sha256(path.read_bytes()).hexdigest()[:16])
        for path in folder.rglob("*")
        if path.is_file()
    }

    async def static(request: web.Request) -> web.StreamResponse:
        found = files.get(request.match_info["path"])
        if found is None:
            raise web.HTTPNotFound()
        path, etag = found
        if request.headers.get("If-None-Match") == f'"{etag}"':
            return web.Response(status=304, headers={"ETag": f'"{etag}"'})
        return web.FileResponse(path, headers={"ETag": f'"{etag}"'})

    app.router.add_get(STATIC_PREFIX + "{path:.+}", static)
