"""Who is acting, carried from the console to the services in each gRPC call's metadata.

The console authenticates people; a service takes the actor of a change from this principal and never
from a field of the request, so a timeline's "who" is the signed-in person and not what a body claims.
Besides the username and role, the principal says where the person sits: their extension, their team, and
for a supervisor the extensions of their team, so a service can apply rules such as "a call they took".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

USER_KEY = "crs-principal-user"
ROLE_KEY = "crs-principal-role"
EXTENSION_KEY = "crs-principal-extension"
TEAM_KEY = "crs-principal-team"
TEAM_EXTENSIONS_KEY = "crs-principal-team-extensions"
_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
_EXTENSION = re.compile(r"^[0-9A-Za-z_+-]{1,32}$")
_TEAM = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,63}$")
MAX_TEAM_EXTENSIONS = 500
ROLES = ("agent", "supervisor", "analyst", "admin", "service")


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    extension: str = ""
    team: str = ""
    team_extensions: frozenset[str] = field(default_factory=frozenset)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [(USER_KEY, self.username), (ROLE_KEY, self.role)]
        if self.extension:
            pairs.append((EXTENSION_KEY, self.extension))
        if self.team:
            pairs.append((TEAM_KEY, self.team))
        if self.team_extensions:
            pairs.append((TEAM_EXTENSIONS_KEY, ",".join(sorted(self.team_extensions))))
        return tuple(pairs)


def from_metadata(pairs) -> Principal | None:
    """The principal in a call's invocation metadata, or None when it is missing or malformed."""
    keys = (USER_KEY, ROLE_KEY, EXTENSION_KEY, TEAM_KEY, TEAM_EXTENSIONS_KEY)
    found = {key: value for key, value in (pairs or ()) if key in keys}
    username, role = found.get(USER_KEY, ""), found.get(ROLE_KEY, "")
    if not _NAME.match(username) or role not in ROLES:
        return None
    extension, team = found.get(EXTENSION_KEY, ""), found.get(TEAM_KEY, "")
    if (extension and not _EXTENSION.match(extension)) or (team and not _TEAM.match(team)):
        return None
    listed = [e for e in found.get(TEAM_EXTENSIONS_KEY, "").split(",") if e]
    if len(listed) > MAX_TEAM_EXTENSIONS or not all(_EXTENSION.match(e) for e in listed):
        return None
    return Principal(username, role, extension, team, frozenset(listed))
