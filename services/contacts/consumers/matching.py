"""Who is calling from this number: candidates from the stored numbers, strongest and most recent first."""

from __future__ import annotations

from typing import Protocol

from services.contacts.consumers import phones
from services.contacts.consumers.model import Candidate, MatchKind, MatchResult, NoMatchReason, NumberHit
from services.contacts.interfaces import ContactHistory

DEFAULT_MAX_CANDIDATES = 10
MAX_CANDIDATES = 50


class MatchStore(Protocol):
    async def number_hits(self, *, number: phones.PhoneNumber, limit: int) -> list[NumberHit]: ...


def rank(hits: list[NumberHit]) -> list[Candidate]:
    """One candidate per consumer, by its strongest hit; then by kind, numbers in use, latest contact."""
    best: dict[str, NumberHit] = {}
    for hit in hits:
        held = best.get(hit.consumer_id)
        if held is None or (hit.kind, not hit.current) < (held.kind, not held.current):
            best[hit.consumer_id] = hit
    candidates = [
        Candidate(h.consumer_id, h.name, h.language, h.kind, h.matched_number, h.current, h.last_contact_at)
        for h in best.values()
    ]
    candidates.sort(
        key=lambda c: (
            c.kind,
            not c.current,
            -(c.last_contact_at.timestamp() if c.last_contact_at else float("-inf")),
            c.name,
        )
    )
    return candidates


async def match_caller(
    *,
    store: MatchStore,
    history: ContactHistory | None = None,
    number: str,
    region: str,
    withheld: bool = False,
    recent_contacts: int = 0,
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
) -> MatchResult:
    """Candidates for a caller's number; a withheld or unreadable number matches no one and says why."""
    if withheld or phones.is_withheld_word(number or ""):
        return MatchResult(None, True, [], NoMatchReason.WITHHELD, "the caller withheld their number")
    try:
        parsed = phones.parse(number, region)
    except phones.NumberError as exc:
        reason = NoMatchReason.WITHHELD if "withheld" in str(exc) else NoMatchReason.UNPARSEABLE
        return MatchResult(None, reason is NoMatchReason.WITHHELD, [], reason, str(exc))
    limit = max(1, min(max_candidates or DEFAULT_MAX_CANDIDATES, MAX_CANDIDATES))
    hits = await store.number_hits(number=parsed, limit=limit * 3)
    if not hits:
        return MatchResult(parsed.e164, False, [], NoMatchReason.NOT_FOUND, "no consumer has this number")
    candidates = rank(hits)[:limit]
    if recent_contacts > 0 and candidates and history is not None:
        by_consumer = await history.recent_contacts(
            consumer_ids=[c.consumer_id for c in candidates], limit=min(recent_contacts, 20)
        )
        for candidate in candidates:
            candidate.recent_contacts = by_consumer.get(candidate.consumer_id, [])
    return MatchResult(parsed.e164, False, candidates)


def owner_of(candidates: list[Candidate]) -> str | None:
    """The one consumer a call belongs to; a shared or weakly matched number belongs to no one yet."""
    strong = [c for c in candidates if c.kind in (MatchKind.EXACT, MatchKind.NATIONAL) and c.current]
    return strong[0].consumer_id if len(strong) == 1 else None
