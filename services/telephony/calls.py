"""Call state: ringing, answered, ended, each transition once, and the event each transition publishes.

The book is keyed by SIP Call-ID, so a retransmitted INVITE finds its call and publishes nothing new;
ended calls are remembered for a while so that a late retransmission cannot start the call again.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from crs.telephony.v1 import events_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.runtime.events import Event
from services.telephony.callerid import CallerId

SOURCE = "telephony"


class CallState(Enum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class CallerTrust(Enum):
    TRUNK = events_pb2.CALLER_TRUST_TRUNK
    UNTRUSTED_PEER = events_pb2.CALLER_TRUST_UNTRUSTED_PEER


class EndReason(Enum):
    CANCELLED = events_pb2.END_REASON_CANCELLED
    CALLER_HUNG_UP = events_pb2.END_REASON_CALLER_HUNG_UP
    COMPLETED = events_pb2.END_REASON_COMPLETED
    FAILED = events_pb2.END_REASON_FAILED
    NO_MEDIA = events_pb2.END_REASON_NO_MEDIA


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@dataclass
class Call:
    call_id: str
    caller: CallerId
    trust: CallerTrust
    extension: str
    invite_received_at: datetime
    invite_monotonic: float
    to_tag: str
    record: bool
    state: CallState = CallState.RINGING
    answered_at: datetime | None = None
    answered_monotonic: float | None = None
    ended_at: datetime | None = None
    reason: EndReason | None = None
    recording_key: str = ""
    paused: list = field(default_factory=list)  # the recording's PausedInterval spans, once stored
    control_address: str = ""  # this replica's recording control API, for whoever pauses the call
    responses: dict[str, bytes] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float:
        if self.answered_monotonic is None or self.ended_at is None:
            return 0.0
        return round(max(0.0, self._ended_monotonic - self.answered_monotonic), 3)

    _ended_monotonic: float = 0.0

    def _caller_message(self) -> events_pb2.Caller:
        return events_pb2.Caller(
            number=self.caller.number,
            raw=self.caller.raw,
            display=self.caller.display,
            withheld=self.caller.withheld,
            source=self.caller.source,
            trust=self.trust.value,
        )

    def ringing_event(self) -> Event:
        message = events_pb2.CallRinging(
            call_id=self.call_id,
            caller=self._caller_message(),
            extension=self.extension,
            invite_received_at=_timestamp(self.invite_received_at),
            control_address=self.control_address,
        )
        return Event.of(SOURCE, "call_ringing", message, correlation_id=self.call_id)

    def answered_event(self) -> Event:
        message = events_pb2.CallAnswered(
            call_id=self.call_id,
            extension=self.extension,
            answered_at=_timestamp(self.answered_at or datetime.now(UTC)),
            recording=self.record,
        )
        return Event.of(SOURCE, "call_answered", message, correlation_id=self.call_id)

    def ended_event(self) -> Event:
        message = events_pb2.CallEnded(
            call_id=self.call_id,
            extension=self.extension,
            caller=self._caller_message(),
            reason=self.reason.value if self.reason else events_pb2.END_REASON_UNSPECIFIED,
            duration_seconds=self.duration_seconds,
            recording_key=self.recording_key,
            started_at=_timestamp(self.invite_received_at),
            ended_at=_timestamp(self.ended_at or datetime.now(UTC)),
            paused=[_paused_interval(interval) for interval in self.paused],
        )
        return Event.of(SOURCE, "call_ended", message, correlation_id=self.call_id)

    def pause_event(self, *, paused: bool, by: str, role: str, at: datetime, offset: float) -> Event:
        message = events_pb2.RecordingPauseChanged(
            call_id=self.call_id,
            extension=self.extension,
            paused=paused,
            by=by,
            by_role=role,
            at=_timestamp(at),
            offset_seconds=offset,
        )
        kind = "recording_paused" if paused else "recording_resumed"
        return Event.of(SOURCE, kind, message, correlation_id=self.call_id)


def _paused_interval(interval) -> events_pb2.PausedInterval:
    message = events_pb2.PausedInterval(
        start_seconds=interval.start,
        end_seconds=interval.end or 0.0,
        paused_by=interval.paused_by,
        resumed_by=interval.resumed_by,
    )
    if interval.paused_at is not None:
        message.paused_at.FromDatetime(interval.paused_at)
    if interval.resumed_at is not None:
        message.resumed_at.FromDatetime(interval.resumed_at)
    return message


class CallBook:
    """The calls in progress, by Call-ID; every method is safe from any thread."""

    def __init__(self, *, remember_ended: int = 10_000):
        self._calls: dict[str, Call] = {}
        self._ended: collections.OrderedDict[str, Call] = collections.OrderedDict()
        self._remember_ended = remember_ended
        self._lock = threading.Lock()

    def add(self, call: Call) -> bool:
        """Add a ringing call; False when the Call-ID is already known (a retransmission)."""
        with self._lock:
            if call.call_id in self._calls or call.call_id in self._ended:
                return False
            self._calls[call.call_id] = call
            return True

    def get(self, call_id: str) -> Call | None:
        with self._lock:
            return self._calls.get(call_id) or self._ended.get(call_id)

    def active(self) -> list[Call]:
        with self._lock:
            return list(self._calls.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def answer(self, call_id: str) -> Call | None:
        """Mark the call answered; None unless it was ringing."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state is not CallState.RINGING:
                return None
            call.state = CallState.ANSWERED
            call.answered_at = datetime.now(UTC)
            call.answered_monotonic = time.monotonic()
            return call

    def end(self, call_id: str, reason: EndReason) -> Call | None:
        """End the call once; None when it had already ended or never existed."""
        with self._lock:
            call = self._calls.pop(call_id, None)
            if call is None:
                return None
            call.state = CallState.ENDED
            call.reason = reason
            call.ended_at = datetime.now(UTC)
            call._ended_monotonic = time.monotonic()
            self._ended[call_id] = call
            while len(self._ended) > self._remember_ended:
                self._ended.popitem(last=False)
            return call
