"""Events casework acts on: telephony's call_ended files the call as an uncoded contact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.telephony.v1 import events_pb2 as telephony

from services.contacts.casework.domain.calls import EndedCall
from services.contacts.casework.service import Casework
from services.runtime.bus import Subscription
from services.runtime.events import Event

log = logging.getLogger(__name__)

END_REASONS = {
    telephony.END_REASON_CANCELLED: "cancelled",
    telephony.END_REASON_CALLER_HUNG_UP: "caller_hung_up",
    telephony.END_REASON_COMPLETED: "completed",
    telephony.END_REASON_FAILED: "failed",
}


def ended_call(event: Event) -> EndedCall | None:
    ended = event.parse(telephony.CallEnded)
    if not ended.call_id:
        return None
    started = ended.started_at.ToDatetime(tzinfo=UTC) if ended.HasField("started_at") else event.time
    return EndedCall(
        call_id=ended.call_id,
        number=ended.caller.number,
        withheld=ended.caller.withheld,
        extension=ended.extension,
        reason=END_REASONS.get(ended.reason, "completed"),
        duration_seconds=ended.duration_seconds,
        recording_key=ended.recording_key,
        started_at=started or datetime.now(UTC),
    )


def subscriptions(casework: Casework) -> list[Subscription]:
    async def on_call_ended(event: Event) -> None:
        call = ended_call(event)
        if call is None:
            log.warning("call_ended event %s has no call id; dropped", event.id)
            return
        contact_id = await casework.file_call(call)
        log.info("call filed as contact %s" if contact_id else "call was filed before", contact_id)

    return [Subscription("telephony", "call_ended", on_call_ended)]
