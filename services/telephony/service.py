"""The telephony service: calls announced on the bus, answered as the recording leg, recordings stored.

It sits between the SIP endpoint (which tells it what happens on the wire) and the event publisher and
recording store (which it tells what happened). Recording finishes on its own worker so that the SIP
thread never waits on the store; `call_ended` leaves only once the recording's key is known.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram

from services.runtime.logs import correlated
from services.runtime.principal import Principal
from services.runtime.recordings import RecordingExists, RecordingStore
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
    """Where a call's WAV is stored: by day, named by a hash of the Call-ID (which may hold any byte),
    the INVITE's time and a random part, so a Call-ID used again (same day, even same second) gets a
    key of its own; the store refuses to overwrite one anyway."""
    received = call.invite_received_at
    digest = hashlib.sha256(call.call_id.encode()).hexdigest()[:24]
    return f"{received:%Y/%m/%d}/{digest}-{received:%H%M%S%f}-{secrets.token_hex(4)}.wav"


class NoSuchRecording(LookupError):
    """No call in progress with that Call-ID is being recorded."""


class NotAllowed(PermissionError):
    """The principal may not do this to the recording."""


# Pausing is the safe direction (nothing is recorded), so every role that works calls may do it;
# resuming records again, so only whoever paused, or a supervisor or admin, may.
MAY_PAUSE = frozenset({"agent", "supervisor", "admin", "service"})
MAY_RESUME_ANY = frozenset({"supervisor", "admin"})


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
        media_timeout: float = 30.0,
    ):
        self.publisher = publisher
        self.store = store
        self.region = region
        self.policy = policy
        self.answer_delay = answer_delay
        self.max_call_seconds = max_call_seconds
        self.max_calls = max_calls
        self.spool_dir = spool_dir
        self.media_timeout = media_timeout
        self.book = CallBook()
        self.recordings: dict[str, Recording] = {}
        self._timers = Scheduler()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recording-writer")
        self.endpoint = None  # set by the composition root: the SipServer that answers and hangs up
        # Set by the composition root once the control API listens: where this replica's calls are paused.
        self.control_address = ""

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
            control_address=self.control_address if record else "",
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
        if self.media_timeout > 0:
            self._after(call_id, self.media_timeout, self._check_media)

    def _check_media(self, call_id: str) -> None:
        """End an answered call that has sent no RTP for `media_timeout` (a dead or silent peer would
        otherwise hold its slot until the call's time limit); else look again when it could be due."""
        recording = self.recordings.get(call_id)
        if recording is None:
            return
        idle = recording.idle_seconds()
        if idle >= self.media_timeout:
            with correlated(call_id):
                log.warning("no RTP; ending the call", extra={"fields": {"idle_seconds": round(idle, 1)}})
            if self.endpoint is not None:
                self.endpoint.hang_up(call_id, EndReason.NO_MEDIA)
            return
        self._after(call_id, self.media_timeout - idle, self._check_media)

    # -- PCI pause and resume ---------------------------------------------------------------------------

    def pause(self, call_id: str, principal: Principal):
        """Silence the call's recording from now; returns (changed, recording)."""
        if principal.role not in MAY_PAUSE:
            raise NotAllowed(f"a {principal.role} may not pause a recording")
        call, recording = self._recorded_call(call_id)
        interval = recording.pause(by=principal.username)
        if interval is not None:
            self.publisher.publish(
                call.pause_event(
                    paused=True, by=principal.username, role=principal.role,
                    at=interval.paused_at, offset=interval.start,
                )
            )  # fmt: skip
            self._log_pause(call_id, "recording paused", principal)
        return interval is not None, recording

    def resume(self, call_id: str, principal: Principal):
        """Record the call again from now; returns (changed, recording)."""
        call, recording = self._recorded_call(call_id)
        if recording.is_paused:
            paused_by = recording.paused[-1].paused_by
            if principal.role not in MAY_RESUME_ANY and principal.username != paused_by:
                raise NotAllowed("only whoever paused the recording, or a supervisor, may resume it")
        interval = recording.resume(by=principal.username)
        if interval is not None:
            self.publisher.publish(
                call.pause_event(
                    paused=False, by=principal.username, role=principal.role,
                    at=interval.resumed_at, offset=interval.end,
                )
            )  # fmt: skip
            self._log_pause(call_id, "recording resumed", principal)
        return interval is not None, recording

    def recording_state(self, call_id: str):
        """The recording of a call in progress, to read whether it is paused and its spans."""
        return self._recorded_call(call_id)[1]

    def _recorded_call(self, call_id: str):
        call = self.book.get(call_id)
        recording = self.recordings.get(call_id)
        if call is None or recording is None or call.ended_at is not None:
            raise NoSuchRecording(f"no recorded call in progress with Call-ID {call_id!r}")
        return call, recording

    @staticmethod
    def _log_pause(call_id: str, what: str, principal: Principal) -> None:
        with correlated(call_id):
            log.info(what, extra={"fields": {"by": principal.username, "role": principal.role}})

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
                path = recording.finish()
                call.paused = list(recording.paused)
                call.recording_key = self._store(call, path)
        except Exception:
            log.exception("storing a recording failed; the call is announced without it")
        finally:
            recording.discard()
        self.publisher.publish(call.ended_event())

    def _store(self, call: Call, path) -> str:
        """Stream the spooled WAV to the store under a new key; a key taken already gets another."""
        for _ in range(3):
            key = recording_key(call)
            try:
                self.store.put_file(key, path)
                return key
            except RecordingExists:
                log.warning("recording key taken; drawing another", extra={"fields": {"key": key}})
        raise RecordingExists(key)

    def drain(self) -> None:
        """Wait for recordings being written, so their call_ended events are in the publisher's buffer."""
        self._timers.stop()
        self._writer.shutdown(wait=True)

    def _answer(self, call_id: str) -> None:
        if self.endpoint is not None:
            self.endpoint.answer(call_id)

    def _hang_up(self, call_id: str) -> None:  # the call's time limit
        if self.endpoint is not None:
            self.endpoint.hang_up(call_id)

    def _after(self, call_id: str, seconds: float, action) -> None:
        self._timers.after(seconds, call_id, lambda: action(call_id))

    def _cancel_timers(self, call_id: str) -> None:
        self._timers.cancel(call_id)
