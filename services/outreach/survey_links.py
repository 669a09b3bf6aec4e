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
    return seal(secret, [survey_id, "-" if score is None else str(score)], expires_at=expires_at)


def verify(secret: bytes, token: str, *, now: datetime) -> LinkClaim:
    (survey_id, score), expires_at = unseal(
        secret, token, 2, now=now, not_one="this link is not a survey link"
    )
    try:
        value = None if score == "-" else int(score)
    except ValueError as error:
        raise BadLink("this link is not a survey link") from error
    return LinkClaim(survey_id, value, expires_at)


def seal(secret: bytes, fields: list[str], *, expires_at: datetime) -> str:
    """`fields` (no dots in them) and the expiry, signed: the token of every outreach link."""
    body = ".".join([*fields, str(int(expires_at.timestamp()))])
    return f"{body}.{signature(secret, body)}"


def unseal(
    secret: bytes, token: str, count: int, *, now: datetime, not_one: str
) -> tuple[list[str], datetime]:
    """The `count` fields of a sealed token and its expiry; BadLink (`not_one` for a malformed one)."""
    parts = (token or "").split(".")
    if len(parts) != count + 2:
        raise BadLink(not_one)
    if not hmac.compare_digest(parts[-1], signature(secret, ".".join(parts[:-1]))):
        raise BadLink("this link was altered")
    try:
        expires_at = datetime.fromtimestamp(int(parts[-2]), UTC)
    except (ValueError, OverflowError) as error:
        raise BadLink(not_one) from error
    if now >= expires_at:
        raise BadLink("this link has expired")
    return parts[:count], expires_at


def signature(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
