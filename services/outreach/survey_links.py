"""Signed, expiring survey links: one per score for the one-click rating, and one for the survey page.

A token is `survey_id.score.expires.signature` in URL-safe text, signed with HMAC-SHA256 under the outreach
link secret. Nothing is looked up to trust it; the survey row is looked up to record the answer, so a token
for an erased survey leads nowhere. The score in the token is what the consumer clicked; '-' means "open the
page". Expiry is a hard cut: an old email cannot be replayed into a report months later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LIFETIME = timedelta(days=14)


class BadLink(ValueError):
    """A link that was altered, is malformed or has expired; the message says which, never the secret."""


@dataclass(frozen=True)
class LinkClaim:
    survey_id: str
    score: int | None
    expires_at: datetime


def sign(secret: bytes, survey_id: str, score: int | None, *, expires_at: datetime) -> str:
    if "." in survey_id:
        raise ValueError("survey ids hold no dots")
    body = f"{survey_id}.{'-' if score is None else score}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def verify(secret: bytes, token: str, *, now: datetime) -> LinkClaim:
    parts = (token or "").split(".")
    if len(parts) != 4:
        raise BadLink("this link is not a survey link")
    survey_id, score, expires, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, ".".join(parts[:3]))):
        raise BadLink("this link was altered")
    try:
        expires_at = datetime.fromtimestamp(int(expires), UTC)
        value = None if score == "-" else int(score)
    except ValueError as error:
        raise BadLink("this link is not a survey link") from error
    if now >= expires_at:
        raise BadLink("this link has expired")
    return LinkClaim(survey_id, value, expires_at)


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
