"""Who is acting, carried from the console to the services in each gRPC call's metadata.

The console authenticates people; a service takes the actor of a change from this principal and never
from a field of the request, so a timeline's "who" is the signed-in person and not what a body claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USER_KEY = "crs-principal-user"
ROLE_KEY = "crs-principal-role"
_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
ROLES = ("agent", "supervisor", "analyst", "admin", "service")


@dataclass(frozen=True)
class Principal:
    username: str
    role: str

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((USER_KEY, self.username), (ROLE_KEY, self.role))


def from_metadata(pairs) -> Principal | None:
    """The principal in a call's invocation metadata, or None when it is missing or malformed."""
    found = {key: value for key, value in (pairs or ()) if key in (USER_KEY, ROLE_KEY)}
    username, role = found.get(USER_KEY, ""), found.get(ROLE_KEY, "")
    if not _NAME.match(username) or role not in ROLES:
        return None
    return Principal(username=username, role=role)
