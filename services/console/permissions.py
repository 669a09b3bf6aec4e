"""Who may do what: each route names one permission with @requires, and this table says which roles hold it.

The decorator is the one place a route's permission is declared; `route_permissions(app)` walks the
application's routes and reads them back, so a test can check that every route names a permission (or is
marked @public) and that every permission named is in the table (services/runtime/permissions.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from services.console.auth import Principal
from services.runtime import permissions as permissions_table

# The table itself is the runtime's: the console's routes, the services' gRPC methods and the command line
# read the same one.
PERMISSIONS = permissions_table.PERMISSIONS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = "public"


class Denied(Exception):
    """The signed-in person lacks a permission; becomes a 403 with this message."""

    def __init__(self, permission: str, message: str | None = None):
        super().__init__(message or f"you do not have the permission {permission}")
        self.permission = permission


def allowed(principal: Principal, permission: str) -> bool:
    return permissions_table.allowed(principal.role, permission)


def check(principal: Principal, permission: str, message: str | None = None) -> None:
    """For a permission that depends on the request (assigning a case to someone else)."""
    if not allowed(principal, permission):
        raise Denied(permission, message)


def requires(permission: str) -> Callable[[Handler], Handler]:
    """Mark a route as needing `permission`; the authentication middleware enforces it."""
    if permission not in PERMISSIONS:
        raise KeyError(f"{permission}: not in services/console/permissions.PERMISSIONS")

    def mark(handler: Handler) -> Handler:
        handler.permission = permission  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """Mark a route open to anyone: log-in, probes, static files, the API's description."""
    handler.permission = PUBLIC  # type: ignore[attr-defined]
    return handler


def audited(action: str, subject: str = "") -> Callable[[Handler], Handler]:
    """Mark a route whose answer shows personal data (or plays a recording): each successful answer is
    written to the access log with `action`, and as subject the route's or query's `subject` parameter."""

    def mark(handler: Handler) -> Handler:
        handler.audit = (action, subject)  # type: ignore[attr-defined]
        return handler

    return mark


def audit_of(handler) -> tuple[str, str] | None:
    return getattr(handler, "audit", None)


def permission_of(handler) -> str | None:
    return getattr(handler, "permission", None)


@dataclass(frozen=True)
class RoutePermission:
    method: str
    path: str
    permission: str | None  # None: the route forgot to name one


def route_permissions(app: web.Application) -> list[RoutePermission]:
    """Every route of `app` with the permission it names."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        found.append(RoutePermission(route.method, path, permission_of(route.handler)))
    return found
