"""Events casework acts on: telephony's call_ended files the call as an uncoded contact; its
recording_paused and recording_resumed are kept with the call for the timelines of the call's cases;
fulfillment's fulfillment_<state> move a case into awaiting fulfillment and back (domain/fulfillments.py);
insights' recall_opened and recall_closed open and close a recall's queue (domain/recalls.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.fulfillment.v1 import fulfillment_pb2
from crs.telephony.v1 import events_pb2 as telephony
from google.protobuf import json_format

from services.contacts.casework.domain.calls import EndedCall, PauseChange, PausedSpan
from services.contacts.casework.domain.fulfillments import STATES, FulfillmentChange
from services.contacts.casework.domain.recalls import cover_of
from services.contacts.casework.exceptions import InvalidInput, NotFound
from services.contacts.casework.recall_store import RecallQueues
from services.contacts.casework.service import Casework
from services.runtime.bus import Subscription
from services.runtime.events import Event

log = logging.getLogger(__name__)

END_REASONS = {
    telephony.END_REASON_CANCELLED: "cancelled",
    telephony.END_REASON_CALLER_HUNG_UP: "caller_hung_up",
    telephony.END_REASON_COMPLETED: "completed",
    telephony.END_REASON_FAILED: "failed",
    telephony.END_REASON_NO_MEDIA: "completed",
}


def _moment(message, name: str) -> datetime | None:
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def paused_span(interval: telephony.PausedInterval) -> PausedSpan:
    return PausedSpan(
        start_seconds=interval.start_seconds,
        end_seconds=interval.end_seconds,
        paused_by=interval.paused_by,
        resumed_by=interval.resumed_by,
        paused_at=_moment(interval, "paused_at"),
        resumed_at=_moment(interval, "resumed_at"),
    )


def pause_change(event: Event) -> PauseChange:
    changed = event.parse(telephony.RecordingPauseChanged)
    return PauseChange(
        event_id=event.id,
        call_id=changed.call_id,
        paused=event.type == "recording_paused",
        actor=changed.by,
        actor_role=changed.by_role,
        at=_moment(changed, "at") or event.time,
        offset_seconds=changed.offset_seconds,
    )


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
        paused=tuple(paused_span(interval) for interval in ended.paused),
    )


def fulfillment_change(event: Event) -> FulfillmentChange:
    changed = event.parse(fulfillment_pb2.FulfillmentChanged)
    return FulfillmentChange(
        event_id=event.id,
        fulfillment_id=changed.fulfillment_id,
        case_id=changed.case_id,
        kind=changed.kind,
        state=changed.state,
        actor=changed.actor,
    )


def subscriptions(casework: Casework) -> list[Subscription]:
    async def on_call_ended(event: Event) -> None:
        call = ended_call(event)
        if call is None:
            log.warning("call_ended event %s has no call id; dropped", event.id)
            return
        contact_id = await casework.file_call(call)
        log.info("call filed as contact %s" if contact_id else "call was filed before", contact_id)

    async def on_pause_changed(event: Event) -> None:
        try:
            recorded = await casework.record_pause_change(pause_change(event))
        except (InvalidInput, json_format.ParseError) as exc:
            log.warning("%s event %s refused: %s", event.type, event.id, exc)
            return
        if not recorded:
            log.info("%s event %s was recorded before", event.type, event.id)

    async def on_fulfillment_changed(event: Event) -> None:
        try:
            heard = await casework.fulfillment_changed(fulfillment_change(event))
        except (InvalidInput, NotFound, json_format.ParseError) as exc:
            log.warning("%s event %s refused: %s", event.type, event.id, exc)
            return
        if not heard:
            log.info("%s event %s told nothing new (redelivered or overtaken)", event.type, event.id)

    return [
        *(Subscription("fulfillment", f"fulfillment_{state}", on_fulfillment_changed) for state in STATES),
        Subscription("telephony", "call_ended", on_call_ended),
        Subscription("telephony", "recording_paused", on_pause_changed),
        Subscription("telephony", "recording_resumed", on_pause_changed),
    ]


def recall_subscriptions(queues: RecallQueues) -> list[Subscription]:
    async def on_recall(event: Event) -> None:
        try:
            cover = cover_of(event.type, event.data)
        except InvalidInput as exc:
            log.warning("%s event %s refused: %s", event.type, event.id, exc)
            return
        routed = await queues.hear(cover)
        log.info("recall %s %s; %d cases routed to its queue", cover.recall_id, event.type, routed)

    return [Subscription("insights", kind, on_recall) for kind in ("recall_opened", "recall_closed")]
