"""HTTP digest authentication as SIP uses it (RFC 3261 section 22, RFC 2617): the client's side.

Plain functions: read a `WWW-Authenticate` or `Proxy-Authenticate` challenge, and build the
`Authorization` or `Proxy-Authorization` value that answers it. MD5 is what SIP digest means in
practice (RFC 8760's SHA-256 is not widely deployed), and the edge offers it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


class ChallengeError(ValueError):
    """The challenge is not a digest challenge this client can answer."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    opaque: str = ""
    qop: str = ""
    algorithm: str = "MD5"
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """A `Digest realm=..., nonce=...` challenge; raises ChallengeError for anything else."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ChallengeError(f"not a digest challenge: {scheme!r}")
    params = {}
    for match in _PARAM.finditer(rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    if "realm" not in params or "nonce" not in params:
        raise ChallengeError("a digest challenge needs realm and nonce")
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise ChallengeError(f"digest algorithm {algorithm!r} is not supported")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if qops and "auth" not in qops:
        raise ChallengeError(f"digest qop {qops} offers no 'auth'")
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        opaque=params.get("opaque", ""),
        qop="auth" if qops else "",
        stale=params.get("stale", "").lower() == "true",
    )


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    nonce_count: int = 1,
    cnonce: str | None = None,
) -> str:
    """The credentials answering `challenge` for a request `method uri`."""
    ha1 = _md5(f"{username}:{challenge.realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [
        f"username={_quoted(username)}",
        f"realm={_quoted(challenge.realm)}",
        f"nonce={_quoted(challenge.nonce)}",
        f"uri={_quoted(uri)}",
    ]
    if challenge.qop:
        cnonce = cnonce or secrets.token_hex(8)
        nc = f"{nonce_count:08x}"
        response = _md5(f"{ha1}:{challenge.nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f"cnonce={_quoted(cnonce)}"]
    else:
        response = _md5(f"{ha1}:{challenge.nonce}:{ha2}")
    fields.append(f"response={_quoted(response)}")
    fields.append("algorithm=MD5")
    if challenge.opaque:
        fields.append(f"opaque={_quoted(challenge.opaque)}")
    return "Digest " + ", ".join(fields)
