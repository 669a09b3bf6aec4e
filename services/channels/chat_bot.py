"""The chat's assistant: what it says, in the consumer's language, and the ports it asks.

Knowledge decides (its `Ask`): an answer from an article, or a hand-off to a person with the reason:
`safety` (illness, injury, allergy, a foreign object: at once, and the case is escalated), `asked_for_person`
or `low_confidence` (below the threshold an admin sets). Every answer is logged there; the chat tells it
the outcome (resolved, handed_off, reopened). For a where-to-buy article about one product, the assistant
offers the nearest stores that have it, from the consumer's postcode (fulfillment's `WhereToBuy`).

Plain Python: `Answers` and `Shops` are ports (gRPC adapters in knowledge_client.py, fakes in tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

BOT = "assistant"  # the author of the assistant's lines on the case
SAFETY = "safety"
ASKED_FOR_PERSON = "asked_for_person"
LOW_CONFIDENCE = "low_confidence"
# Knowledge could not be asked: a person answers instead.
UNANSWERED = "assistant_unavailable"
WHERE_TO_BUY = "where_to_buy"
SAFETY_ESCALATION = (
    "Chat: the consumer's words read as a safety matter (illness, injury, allergy or a foreign object); "
    "handed from the assistant to an agent at once"
)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    language: str
    kind: str
    product_sku: str
    other_language: bool


@dataclass(frozen=True)
class Reply:
    answer: str
    source: Source | None
    hand_off: bool
    reason: str
    confidence: float
    log_id: int


@dataclass(frozen=True)
class Shop:
    name: str
    postcode: str
    distance_km: float
    available: int


class Answers(Protocol):
    async def ask(self, question: str, *, language: str) -> Reply: ...
    async def record(self, log_id: int, outcome: str) -> None: ...


class NoPlace(ValueError):
    """Fulfillment cannot place this postcode (unknown, or not one)."""


class Shops(Protocol):
    async def where_to_buy(self, sku: str, postcode: str, *, language: str) -> list[Shop]: ...


# A line that is nothing but a postcode (with a few words around it): digits, or letters and digits.
_POSTCODE = re.compile(
    r"^\s*(?:(?:my|mon|mein|mi)?\s*(?:post ?code|zip(?: ?code)?|code postal|postleitzahl|plz|"
    r"c[oó]digo postal|cp|郵便番号)\s*(?:is|est|ist|es|:|は)?\s*)?"
    r"(?P<code>(?=[A-Za-z0-9 -]*\d)[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9])\s*[.!]?\s*$",
    re.IGNORECASE,
)


def postcode_in(text: str) -> str | None:
    """The postcode when the line is one ("75011", "my zip is 10001", "SW1A 1AA"); else None."""
    found = _POSTCODE.match(text or "")
    return found.group("code").upper() if found else None


def offers_stores(reply: Reply) -> str:
    """The product whose stores the assistant may list after this answer; empty when none."""
    source = reply.source
    return source.product_sku if source and source.kind == WHERE_TO_BUY and source.product_sku else ""
