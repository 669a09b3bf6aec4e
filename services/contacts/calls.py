"""Ended calls filed as contacts: on the consumer the number matched, or on an unidentified caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.contacts import convert, matching
from services.contacts.model import MatchKind
from services.contacts.store import ContactsStore

WITHHELD_KEY = "withheld"
END_SUMMARIES = {
    "cancelled": "Missed call: the caller hung up while it rang",
    "caller_hung_up": "Inbound call",
    "completed": "Inbound call",
    "failed": "Inbound call that failed",
}


@dataclass(frozen=True)
class EndedCall:
    call_id: str
    number: str  # E.164, or empty when withheld
    withheld: bool
    extension: str
    reason: str
    duration_seconds: float
    recording_key: str
    started_at: datetime


def owner_of(candidates) -> str | None:
    """The one consumer a call belongs to; a shared or weakly matched number belongs to no one yet."""
    strong = [c for c in candidates if c.kind in (MatchKind.EXACT, MatchKind.NATIONAL) and c.current]
    return strong[0].consumer_id if len(strong) == 1 else None


async def file_call(*, store: ContactsStore, call: EndedCall, region: str) -> str | None:
    """File the call as a contact and publish call_contact_attached; None if it was filed before."""
    consumer_id = None
    if not call.withheld and call.number:
        result = await matching.match_caller(store=store, number=call.number, region=region)
        consumer_id = owner_of(result.candidates)
    summary = END_SUMMARIES.get(call.reason, "Inbound call")
    if call.duration_seconds:
        summary += f", {round(call.duration_seconds)} s"
    async with store.unit_of_work() as uow:
        unidentified_id = None
        if consumer_id is None:
            unidentified_id = await uow.calls.unidentified_caller(call.number or WITHHELD_KEY)
        contact_id = await uow.calls.add_call(
            consumer_id=consumer_id,
            unidentified_caller_id=unidentified_id,
            call_id=call.call_id,
            summary=summary,
            status="new",
            occurred_at=call.started_at,
            duration_seconds=call.duration_seconds,
            recording_key=call.recording_key or None,
            caller_number=call.number,
        )
        if contact_id is None:
            return None
        await uow.add_event(
            convert.call_contact_attached(
                contact_id=contact_id,
                consumer_id=consumer_id,
                unidentified_caller_id=unidentified_id,
                call_id=call.call_id,
                recording_key=call.recording_key,
            )
        )
        await uow.commit()
    return contact_id
