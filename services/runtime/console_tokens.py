"""Short-lived signed tokens naming a console user (HMAC-SHA256 with CRS_CONSOLE_SESSION_SECRET).

No page hands them out any more: the console serves every page, the casework API and recordings from one
origin with one session, and passes the person to the services as the gRPC principal
(services/runtime/principal.py). Integrations use the bearer tokens of `crs agent token`, which the
console checks against its sessions. What is left here is for service-to-service use only.

    token = base64url(JSON {"sub", "name", "role", "exp"}) "." base64url(HMAC(secret, "crs-console-v1." + part1))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from services.runtime.settings import env

DEV_SECRET = "crs-dev-console-session-secret"
ROLES = ("agent", "supervisor")
_CONTEXT = b"crs-console-v1."


def secret_from_env() -> bytes:
    return env("CRS_CONSOLE_SESSION_SECRET", DEV_SECRET).encode()


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    display_name: str
    role: str
    expires_at: int

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(*, secret: bytes, username: str, display_name: str, role: str, ttl_seconds: int = 12 * 3600) -> str:
    """A token for `username` that expires after `ttl_seconds`."""
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    payload = {"sub": username, "name": display_name, "role": role, "exp": int(time.time()) + ttl_seconds}
    part = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret, _CONTEXT + part.encode(), hashlib.sha256).digest()
    return f"{part}.{_b64(signature)}"


def verify(token: str | None, *, secret: bytes) -> ConsoleUser | None:
    """The user a token names, or None when it is forged, malformed or expired."""
    if not token or len(token) > 2048 or token.count(".") != 1:
        return None
    part, signature = token.split(".")
    expected = hmac.new(secret, _CONTEXT + part.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        payload = json.loads(_unb64(part))
        user = ConsoleUser(
            str(payload["sub"]),
            str(payload.get("name") or payload["sub"]),
            payload["role"],
            int(payload["exp"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if user.role not in ROLES or user.expires_at < time.time():
        return None
    return user
