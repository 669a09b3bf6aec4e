"""Console session tokens: JWTs signed with PyJWT (HS256) that name a server-side session row.

A token carries
- `aud`: "crs-console" for the browser's cookie, "crs-api" for a bearer token; each door accepts only its
  own, so a cookie lifted from a browser is no bearer token and a bearer token opens no page;
- `iat` and `exp`: when it was issued and until when it holds;
- `jti`: the id of its row in `console.sessions`, which the console also checks on every request, so that
  disabling an agent or changing a password ends their tokens at once;
- the `kid` header: which key signed it.

The keys come from CRS_CONSOLE_TOKEN_KEYS, "kid:secret,kid2:secret2": the first signs, every one listed
verifies. Rotation: put a new key first and keep the old one after it until the tokens it signed expired,
then drop it; a token whose kid is no longer listed is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from services.runtime import settings

SETTING = "CRS_CONSOLE_TOKEN_KEYS"
BROWSER = "crs-console"
API = "crs-api"
AUDIENCE_OF_KIND = {"browser": BROWSER, "api": API}
ALGORITHM = "HS256"
# RFC 7518 3.2: an HS256 key at least as long as the hash.
MIN_SECRET_LENGTH = 32
MAX_TOKEN_LENGTH = 2048


class BadKeys(ValueError):
    """CRS_CONSOLE_TOKEN_KEYS is malformed; the message says how."""


@dataclass(frozen=True)
class TokenKeys:
    """The signing key (the first) and every key that still verifies, by kid."""

    keys: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> TokenKeys:
        keys: list[tuple[str, str]] = []
        for item in text.split(","):
            kid, sep, secret = item.strip().partition(":")
            if not sep or not kid or not secret:
                raise BadKeys(f"{SETTING} must read kid:secret[,kid:secret...], not {item.strip()[:12]!r}…")
            if kid in dict(keys):
                raise BadKeys(f"{SETTING} names the key {kid!r} twice")
            keys.append((kid, secret))
        return cls(tuple(keys))

    @property
    def signing_kid(self) -> str:
        return self.keys[0][0]

    def issue(self, *, session_id: str, audience: str, ttl: timedelta, now: float) -> str:
        kid, secret = self.keys[0]
        claims = {
            "aud": audience,
            "iat": int(now),
            "exp": int(now + ttl.total_seconds()),
            "jti": session_id,
        }
        return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})

    def verify(self, token: str | None, *, audience: str, now: float) -> str | None:
        """The session id a token names, when its signature, key, audience and expiry hold; else None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            secret = dict(self.keys).get(kid) if isinstance(kid, str) else None
            if secret is None:
                return None  # unsigned, or signed by a key that was retired
            # The expiry is compared with our own clock below, so that it can be tested; PyJWT checks
            # the signature (HS256 only: no "none", no algorithm swap), the audience and the claims' presence.
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=audience,
                options={"require": ["aud", "exp", "iat", "jti"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        expires, session_id = claims["exp"], claims["jti"]
        if not isinstance(expires, int | float) or expires <= now:
            return None
        try:
            return str(uuid.UUID(str(session_id)))
        except ValueError:
            return None


def development_keys() -> TokenKeys:
    return TokenKeys.parse(settings.SECRETS[SETTING])


def keys_from_env() -> TokenKeys:
    """The keys of CRS_CONSOLE_TOKEN_KEYS; in production none of them may be short or a development one."""
    text = settings.env("CRS_CONSOLE_TOKEN_KEYS", settings.SECRETS[SETTING])
    try:
        keys = TokenKeys.parse(text)
    except BadKeys as exc:
        raise SystemExit(str(exc)) from None
    if settings.in_production():
        for kid, secret in keys.keys:
            if secret.startswith("crs-dev") or len(secret) < MIN_SECRET_LENGTH:
                raise settings.DevelopmentSecret(
                    f"CRS_ENV=production but {SETTING} key {kid!r} is a development or short secret:"
                    f" give each key at least {MIN_SECRET_LENGTH} random characters"
                )
    return keys
