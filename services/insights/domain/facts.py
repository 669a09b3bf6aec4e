"""A contact as insights keeps it: what the early warning and CPMU need from casework's case events.

Built from the case in the event (crs.contacts.v1.Case in its JSON mapping), never from casework's tables.
The date that counts is when the consumer's contact was received (`occurred_at`, which a back-dated letter
carries), falling back on when the case was created.

Weight: a contact through the public web form without a verified consumer (no consumer on file) counts
0.25. Such submissions are where spam and repeated submissions come from, yet a real surge also shows up
there, so they are not dropped: four of them weigh what one verified complaint does, and an alert also needs
a weighted count of at least MIN_WEIGHTED_COUNT (signals.py), so three spam submissions (0.75) can never
raise one, nor can they tip one verified complaint (1.75) over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

UNVERIFIED_WEB_WEIGHT = 0.25


class InvalidFact(ValueError):
    """An event whose case lacks what insights needs (an id, a received date)."""


@dataclass(frozen=True)
class ContactFact:
    contact_id: str
    sku: str
    lot_code: str
    region: str
    issue_code: str
    channel: str
    received_on: date
    weight: float
    verbatim: str = ""


def region_of(purchase_location: str) -> str:
    """ "Springfield, IL" -> "IL": the capture form asks for "city, region"; one word is the region."""
    return purchase_location.rsplit(",", 1)[-1].strip().upper()


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def weight_of(channel: str, consumer_id: str) -> float:
    return UNVERIFIED_WEB_WEIGHT if channel == "web" and not consumer_id else 1.0


def from_case(case: dict) -> ContactFact:
    contact_id = case.get("id") or ""
    received = case.get("occurred_at") or case.get("created_at") or ""
    if not contact_id or not received:
        raise InvalidFact("the case carries no id or no received date")
    try:
        received_on = _day(received)
    except ValueError as exc:
        raise InvalidFact(f"the case's received date {received!r} is not a time") from exc
    product = case.get("product") or {}
    channel = case.get("channel") or ""
    return ContactFact(
        contact_id=contact_id,
        sku=(product.get("sku") or "").strip(),
        lot_code=(product.get("lot_code") or "").strip(),
        region=region_of(product.get("purchase_location") or ""),
        issue_code=case.get("issue_code") or "",
        channel=channel,
        received_on=received_on,
        weight=weight_of(channel, case.get("consumer_id") or ""),
        verbatim=case.get("verbatim") or "",
    )


def issue_levels(code: str) -> list[str]:
    """Every level of the issue tree above and at `code`: a.b.c -> a, a.b, a.b.c."""
    parts = [p for p in code.split(".") if p]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
