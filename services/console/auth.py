"""Who is asking, and what they may see: passwords, session tokens, CSRF and the pop-watching rule.

- Passwords are hashed with argon2id (argon2-cffi's defaults, the RFC 9106 second recommendation).
- A session is a row in `console.sessions` named by a signed token (tokens.py: audience, expiry, kid).
- The browser holds the token in an HttpOnly, SameSite=Strict cookie; `crs watch` and integrations send
  it as a bearer token in the Authorization header (never in a URL). Forms carry a per-session CSRF
  token, compared in constant time.
- An agent watches the pops of their own extension; a supervisor also those of their team.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.runtime import permissions, principal

EXTENSION = re.compile(r"^[0-9A-Za-z_+-]{1,32}$")
USERNAME = re.compile(r"^[a-z0-9._-]{1,64}$")
ROLES = permissions.ROLES

_hasher = PasswordHasher()
# Verified against when the username is unknown, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """verify_password in a worker thread: argon2 takes tens of milliseconds the event loop must not wait."""
    return await asyncio.get_running_loop().run_in_executor(None, verify_password, password_hash, password)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a wrong password or no such user, in about the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def valid_extension(extension: str | None) -> bool:
    return bool(extension) and EXTENSION.match(extension or "") is not None


@dataclass(frozen=True)
class Principal:
    """A logged-in agent or supervisor, as one request sees them."""

    agent_id: str
    username: str
    display_name: str
    role: str
    extension: str | None
    team_id: str | None
    csrf_token: str = ""
    # For a supervisor: the extensions of the agents in their team.
    team_extensions: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def for_services(self) -> principal.Principal:
        """Who is acting, as the services read it from a gRPC call's metadata."""
        return principal.Principal(
            username=self.username,
            role=self.role,
            extension=self.extension or "",
            team=self.team_id or "",
            team_extensions=self.team_extensions if self.is_supervisor else frozenset(),
        )

    def may_watch(self, extension: str) -> bool:
        """An agent sees only their own extension's pops; a supervisor also their team's."""
        if self.extension is not None and extension == self.extension:
            return True
        return self.is_supervisor and extension in self.team_extensions

    def watchable(self) -> list[str]:
        own = [self.extension] if self.extension else []
        team = sorted(self.team_extensions - set(own)) if self.is_supervisor else []
        return own + team


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def same_origin(origin: str | None, host: str | None, scheme: str) -> bool:
    """A browser request from our own pages; requests without Origin (non-browser clients) pass."""
    if origin is None:
        return True
    return host is not None and origin in (f"{scheme}://{host}", f"http://{host}", f"https://{host}")
