"""The JSON API's OpenAPI document, built from the application itself: its routes, each handler's
docstring and permission, and the request and reply shapes read from the proto descriptors."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from google.protobuf.descriptor import Descriptor

from services.console.permissions import PUBLIC, permission_of
from services.console.schema import json_schema

PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def shapes(*, body: Descriptor | None = None, reply: Descriptor | None = None):
    """Declare the protobuf messages a route takes and gives, for the OpenAPI document."""

    def mark(handler):
        handler.body_shape, handler.reply_shape = body, reply
        return handler

    return mark


def _ref(descriptor: Descriptor, components: dict[str, Any]) -> dict[str, str]:
    if descriptor.name not in components:
        components[descriptor.name] = None
        components[descriptor.name] = json_schema(descriptor, components)
    return {"$ref": f"#/components/schemas/{descriptor.name}"}


def _operation(handler, path: str, components: dict[str, Any]) -> dict[str, Any]:
    doc = (handler.__doc__ or handler.__name__).strip()
    summary, _, description = doc.partition("\n")
    permission = permission_of(handler)
    operation: dict[str, Any] = {
        "operationId": handler.__name__,
        "summary": summary.strip(),
        "responses": {
            "200": {"description": "done"},
            "400": {"description": "a malformed request, with the reason in `error`"},
            "401": {"description": "no session and no bearer token"},
            "403": {"description": "a permission the caller lacks, or a cross-site change"},
        },
    }
    if description.strip():
        operation["description"] = " ".join(description.split())
    if permission and permission != PUBLIC:
        operation["x-permission"] = permission
        operation["security"] = [{"bearer": []}, {"session": []}]
    else:
        operation["security"] = []
    names = PARAM.findall(path)
    if names:
        operation["parameters"] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
            for n in names
        ]
    body = getattr(handler, "body_shape", None)
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body, components)}},
        }
    reply = getattr(handler, "reply_shape", None)
    if reply is not None:
        operation["responses"]["200"] = {
            "description": "done",
            "content": {"application/json": {"schema": _ref(reply, components)}},
        }
    return operation


def document(app: web.Application) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        raw = info.get("path") or info.get("formatter") or ""
        if not raw.startswith("/api/") or route.method == "HEAD":
            continue
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", raw)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route.handler, raw, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CRS console API",
            "version": "1",
            "description": "The API the console's pages and integrations use. Authenticate with a token "
            "from `crs agent token NAME` or POST /api/login, sent as `Authorization: Bearer <token>`.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "crs_session"},
            },
        },
    }
