"""Events contacts acts on: an ended call becomes a contact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.telephony.v1 import events_pb2 as telephony

from services.contacts import calls
from services.contacts.store import ContactsStore
from services.runtime.bus import Subscription
from services.runtime.events import Event

log = logging.getLogger(__name__)

END_REASONS = {
    telephony.END_REASON_CANCELLED: "cancelled",
    telephony.END_REASON_CALLER_HUNG_UP: "caller_hung_up",
    telephony.END_REASON_COMPLETED: "completed",
    telephony.END_REASON_FAILED: "failed",
}


def subscriptions(*, store: ContactsStore, region: str) -> list[Subscription]:
    async def on_call_ended(event: Event) -> None:
        ended = event.parse(telephony.CallEnded)
        if not ended.call_id:
            log.warning("call_ended event %s has no call id; dropped", event.id)
            return
        started = ended.started_at.ToDatetime(tzinfo=UTC) if ended.HasField("started_at") else event.time
        call = calls.EndedCall(
            call_id=ended.call_id,
            number=ended.caller.number,
            withheld=ended.caller.withheld,
            extension=ended.extension,
            reason=END_REASONS.get(ended.reason, "completed"),
            duration_seconds=ended.duration_seconds,
            recording_key=ended.recording_key,
            started_at=started or datetime.now(UTC),
        )
        contact_id = await calls.file_call(store=store, call=call, region=region)
        log.info("call filed as contact %s" if contact_id else "call was filed before", contact_id)

    return [Subscription("telephony", "call_ended", on_call_ended)]
