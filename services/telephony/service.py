"""The telephony service: calls announced on the bus, answered as the recording leg, recordings stored.

It sits between the SIP endpoint (which tells it what happens on the wire) and the event publisher and
recording store (which it tells what happened). Recording finishes on its own worker so that the SIP
thread never waits on the store; `call_ended` leaves only once the recording's key is known.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram

from services.runtime.logs import correlated
from services.runtime.recordings import RecordingStore
from services.telephony import sipmsg
from services.telephony.callerid import identify_caller, rung_extension
from services.telephony.calls import Call, CallBook, CallerTrust, EndReason
from services.telephony.events import EventPublisher
from services.telephony.recorder import Recording
from services.telephony.scheduler import Scheduler
from services.telephony.sip_endpoint import PacketSink

log = logging.getLogger(__name__)

CALLS = Counter("crs_telephony_calls_total", "Calls by how they ended", ["reason"])
RINGING_LATENCY = Histogram(
    "crs_telephony_invite_to_ringing_seconds",
    "INVITE arrival to call_ringing handed to the publisher",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1),
)


@dataclass(frozen=True)
class RecordingPolicy:
    """Which extensions or queues are recorded: `*` for all, a list, or none."""

    extensions: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> RecordingPolicy:
        return cls(frozenset(item.strip() for item in text.split(",") if item.strip()))

    def records(self, extension: str) -> bool:
        return "*" in self.extensions or extension in self.extensions


TRUST_HEADER = "X-CRS-Trust"


def call_trust(invite: sipmsg.SipMessage) -> CallerTrust:
    """The trust level the edge gave the call (it removes any such header a caller sent). Only a call
    the edge marked as from a trunk is trusted; anything else is an untrusted peer."""
    if invite.get(TRUST_HEADER).strip().lower() == "trunk":
        return CallerTrust.TRUNK
    return CallerTrust.UNTRUSTED_PEER


def recording_key(call: Call) -> str:
    """Where a call's WAV is stored: by day, named by a hash of the Call-ID (which may hold any byte)."""
    day = call.invite_received_at.strftime("%Y/%m/%d")
    return f"{day}/{hashlib.sha256(call.call_id.encode()).hexdigest()[:32]}.wav"


class TelephonyService:
    """The handler the SIP endpoint calls; owns the call book, recordings in progress and their timers."""

    def __init__(
        self,
        *,
        publisher: EventPublisher,
        store: RecordingStore,
        region: str,
        policy: RecordingPolicy,
        answer_delay: float,
        max_call_seconds: float,
        max_calls: int,
        spool_dir: str | None = None,
    ):
        self.publisher = publisher
        self.store = store
        self.region = region
        self.policy = policy
        self.answer_delay = answer_delay
        self.max_call_seconds = max_call_seconds
        self.max_calls = max_calls
        self.spool_dir = spool_dir
        self.book = CallBook()
        self.recordings: dict[str, Recording] = {}
        self._timers = Scheduler()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recording-writer")
        self.endpoint = None  # set by the composition root: the SipServer that answers and hangs up

    def refusal(self) -> str | None:
        """Why a new call cannot be taken now, or None."""
        if len(self.book) >= self.max_calls:
            return "Too Many Calls"
        if not self.publisher.has_room():
            return "Event Buffer Full"
        return None

    def ringing(
        self, *, call_id: str, invite: sipmsg.SipMessage, received_at: datetime, received: float
    ) -> bool:
        """Announce a new call; True when it is to be answered and recorded."""
        trust = call_trust(invite)
        caller = identify_caller(invite.get_all, region=self.region, trusted=trust is CallerTrust.TRUNK)
        extension = rung_extension(invite.uri, invite.get("To"))
        record = self.policy.records(extension)
        call = Call(
            call_id=call_id,
            caller=caller,
            trust=trust,
            extension=extension,
            invite_received_at=received_at,
            invite_monotonic=received,
            to_tag="",
            record=record,
        )
        if not self.book.add(call):
            return False
        self.publisher.publish(call.ringing_event())
        RINGING_LATENCY.observe(max(0.0, time.monotonic() - received))
        with correlated(call_id):
            log.info(
                "call ringing",
                extra={
                    "fields": {
                        "extension": extension,
                        "withheld": caller.withheld,
                        "record": record,
                        "trust": trust.name.lower(),
                    }
                },
            )
        if record:
            with self._lock:
                self.recordings[call_id] = Recording(
                    spool_dir=self.spool_dir, max_seconds=self.max_call_seconds
                )
            self._after(call_id, self.answer_delay, self._answer)
        return record

    def audio_sink(self, call_id: str) -> PacketSink:
        """Where the RTP packets of `call_id` go: its recording."""
        recording = self.recordings.get(call_id)
        if recording is None:
            return lambda packet: None
        return recording.feed

    def answered(self, *, call_id: str) -> None:
        call = self.book.answer(call_id)
        if call is None:
            return
        self.publisher.publish(call.answered_event())
        self._after(call_id, self.max_call_seconds, self._hang_up)

    def ended(self, *, call_id: str, reason: EndReason) -> None:
        self._cancel_timers(call_id)
        call = self.book.end(call_id, reason)
        with self._lock:
            recording = self.recordings.pop(call_id, None)
        if call is None:
            if recording is not None:
                recording.discard()
            return
        CALLS.labels(reason.name.lower()).inc()
        if recording is None:
            self.publisher.publish(call.ended_event())
        else:
            self._writer.submit(self._store_and_announce, call, recording)
        with correlated(call_id):
            log.info(
                "call ended",
                extra={"fields": {"reason": reason.name.lower(), "seconds": call.duration_seconds}},
            )

    def _store_and_announce(self, call: Call, recording: Recording) -> None:
        try:
            if call.answered_monotonic is not None and recording.packets:
                key = recording_key(call)
                self.store.put(key, recording.finish())
                call.recording_key = key
            else:
                recording.discard()
        except Exception:
            log.exception("storing a recording failed; the call is announced without it")
        self.publisher.publish(call.ended_event())

    def drain(self) -> None:
        """Wait for recordings being written, so their call_ended events are in the publisher's buffer."""
        self._timers.stop()
        self._writer.shutdown(wait=True)

    def _answer(self, call_id: str) -> None:
        if self.endpoint is not None:
            self.endpoint.answer(call_id)

    def _hang_up(self, call_id: str) -> None:
        if self.endpoint is not None:
            self.endpoint.hang_up(call_id)

    def _after(self, call_id: str, seconds: float, action) -> None:
        self._timers.after(seconds, call_id, lambda: action(call_id))

    def _cancel_timers(self, call_id: str) -> None:
        self._timers.cancel(call_id)
