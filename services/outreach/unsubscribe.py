"""One-click unsubscribe (RFC 8058): the signed link every survey and marketing email carries, and its headers.

A token is `consumer.purpose.channel.expires.signature`, signed like the survey links (survey_links.seal,
HMAC-SHA256 under the outreach link secret), so it names whom, what and where without a login and cannot be
altered into someone else's. It lives a long time (400 days): an unsubscribe link must keep working for
as long as the message may be read, and it can only ever withdraw consent, never grant it.

Only surveys and marketing carry one. Service messages and recall notices have their own legal basis
(docs/outreach.md) and a marketing unsubscribe does not stop them, so no link is made for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.outreach.consent import CHANNELS, purpose_named
from services.outreach.survey_links import seal, unseal

LIFETIME = timedelta(days=400)
UNSUBSCRIBABLE = ("surveys", "marketing")
PATH = "/u/"


@dataclass(frozen=True)
class Unsubscribe:
    consumer_id: str
    purpose: str
    channel: str
    expires_at: datetime


def sign(secret: bytes, consumer_id: str, purpose: str, channel: str = "email", *, now: datetime) -> str:
    purpose = purpose_named(purpose)
    if purpose not in UNSUBSCRIBABLE:
        raise ValueError(f"{purpose} messages carry no unsubscribe link")
    if channel not in CHANNELS:
        raise ValueError(f"channel: one of {', '.join(CHANNELS)}")
    return seal(secret, [str(uuid.UUID(consumer_id)), purpose, channel], expires_at=now + LIFETIME)


def verify(secret: bytes, token: str, *, now: datetime) -> Unsubscribe:
    """The unsubscribe a token names; BadLink saying why when it is altered, malformed or expired."""
    fields, expires_at = unseal(secret, token, 3, now=now, not_one="this is not an unsubscribe link")
    return Unsubscribe(*fields, expires_at)


def url(public_base: str, secret: bytes, consumer_id: str, purpose: str, *, now: datetime) -> str:
    """The address of the one-click page for a notice, on the console's public origin."""
    return public_base.rstrip("/") + PATH + sign(secret, consumer_id, purpose, now=now)


def headers(
    public_base: str, secret: bytes, consumer_id: str, purpose: str, *, now: datetime
) -> dict[str, str]:
    """The RFC 8058 headers a survey or marketing email carries; none for service or recall notices."""
    if purpose_named(purpose) not in UNSUBSCRIBABLE:
        return {}
    return {
        "List-Unsubscribe": f"<{url(public_base, secret, consumer_id, purpose, now=now)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


class Links:
    """campaign_sender.UnsubscribeLinks: each recipient's one-click page on the console's public origin."""

    def __init__(self, public_base: str, secret: bytes, *, clock: Callable[[], datetime]):
        self.public_base, self.secret, self.clock = public_base, secret, clock

    def link(self, consumer_id: str, purpose: str) -> str:
        if purpose_named(purpose) not in UNSUBSCRIBABLE:
            return ""
        return url(self.public_base, self.secret, consumer_id, purpose, now=self.clock())
