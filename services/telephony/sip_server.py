"""The telephony service's SIP endpoint: one UDP socket, one receive thread, a registration loop, a watchdog.

The receive thread blocks in `select` (no polling), so an INVITE is answered with 180 and announced
within a millisecond of arriving. It handles the early part of every call itself (provisional replies,
CANCEL, OPTIONS, retransmissions, anything malformed) and leaves the answer and the RTP to pyVoIP through
`sip_endpoint.MediaStack`. Nothing a peer sends can stop the thread: each datagram's handling is wrapped,
and a watchdog starts a new receive thread if the current one stops beating.
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol

from prometheus_client import Counter

from services.telephony import signalling, sipmsg
from services.telephony.calls import EndReason
from services.telephony.registration import Registration
from services.telephony.sip_endpoint import MediaError, MediaStack, PacketSink

log = logging.getLogger(__name__)

REJECTED = Counter("crs_telephony_sip_rejected_total", "SIP datagrams rejected", ["reason"])
REQUESTS = Counter("crs_telephony_sip_requests_total", "SIP requests handled", ["method"])
WATCHDOG_RESTARTS = Counter(
    "crs_telephony_sip_thread_restarts_total", "Receive threads the watchdog replaced"
)
MAX_DATAGRAM = 65_535


class CallHandler(Protocol):
    """What the endpoint asks of the service."""

    def refusal(self) -> str | None: ...

    def ringing(
        self, *, call_id: str, invite: sipmsg.SipMessage, received_at: datetime, received: float
    ) -> bool: ...

    def answered(self, *, call_id: str) -> None: ...

    def ended(self, *, call_id: str, reason: EndReason) -> None: ...

    def audio_sink(self, call_id: str) -> PacketSink: ...


@dataclass(frozen=True)
class SipSettings:
    bind_host: str
    port: int
    advertise_host: str
    edge: tuple[str, int]
    username: str
    password: str
    register_expires: int
    rtp_low: int
    rtp_high: int
    watchdog_seconds: float
    # Networks SIP is taken from; empty: the addresses the edge's name resolves to. Set it where the
    # edge's packets come from other addresses than its name gives (a Kubernetes Service's ClusterIP).
    edge_sources: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


class DialogState(Enum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass
class Dialog:
    call_id: str
    invite: sipmsg.SipMessage
    source: tuple[str, int]
    to_tag: str
    state: DialogState
    last_response: bytes
    media: bool = False


SUPPORTED_EXTENSIONS: frozenset[str] = frozenset()  # no option tag of RFC 3261's extensions is implemented


def unsupported(request: sipmsg.SipMessage) -> list[str]:
    """The option tags `request` requires (Require) that this endpoint does not support (RFC 3261 8.2.2.3)."""
    tags = [tag.strip() for value in request.get_all("Require") for tag in value.split(",") if tag.strip()]
    return [tag for tag in tags if tag.lower() not in SUPPORTED_EXTENSIONS]


def edge_addresses(edge: tuple[str, int]) -> set[str]:
    """The addresses the edge's name resolves to; empty while it does not resolve.

    The host is what is checked, not the port: kamailio replies and relays from its one socket, but the
    edge's host is the trust boundary (a NetworkPolicy or firewall keeps everything else off this port)."""
    try:
        infos = socket.getaddrinfo(edge[0], edge[1], socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return set()
    return {info[4][0] for info in infos}


Handler = Callable[[sipmsg.SipMessage, tuple[str, int], datetime, float], None]


class SipServer:
    """Owns the SIP socket; `start()` binds and registers, `stop()` ends every call and closes last."""

    def __init__(self, *, settings: SipSettings, calls: CallHandler):
        self.settings = settings
        self.calls = calls
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind((settings.bind_host, settings.port))
        self.port = self.sock.getsockname()[1]
        self.contact = signalling.contact_header(
            username=settings.username, host=settings.advertise_host, port=self.port
        )
        self.media = MediaStack(
            sock=self.sock,
            edge=settings.edge,
            host=settings.advertise_host,
            port=self.port,
            username=settings.username,
            rtp_low=settings.rtp_low,
            rtp_high=settings.rtp_high,
        )
        self.dialogs: dict[str, Dialog] = {}
        self._finished: collections.OrderedDict[str, Dialog] = collections.OrderedDict()
        self._lock = threading.RLock()
        self.handlers: dict[str, Handler] = {
            "INVITE": self._on_invite,
            "ACK": self._on_ack,
            "CANCEL": self._on_cancel,
            "BYE": self._on_bye,
            "OPTIONS": self._on_options,
            "INFO": self._on_info,
        }
        self.accepting = True
        self.registration = Registration(
            edge=settings.edge,
            host=settings.advertise_host,
            port=self.port,
            username=settings.username,
            password=settings.password,
            expires=settings.register_expires,
            send=self._send,
        )
        self.registered = self.registration.registered
        self._edge_addresses = edge_addresses(settings.edge)
        self._stopped = threading.Event()
        self._generation = 0
        self._heartbeat = time.monotonic()
        self._receiver: threading.Thread | None = None
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.advertise_host, self.port

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start receiving, registering with the edge, and watching the receive thread."""
        self._stopped.clear()
        self._start_receiver()
        for target, name in ((self._register, "sip-register"), (self._watchdog, "sip-watchdog")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Refuse new calls, end the ones in progress, deregister; `close()` the socket after the flush."""
        self.accepting = False
        for call_id in list(self.dialogs):
            self.hang_up(call_id)
        self.registration.deregister()
        self._stopped.set()
        for thread in [*self._threads, self._receiver]:
            if thread is not None:
                thread.join(timeout=2)

    def close(self) -> None:
        """Close the RTP receiver and the SIP socket: the last thing the process does."""
        self.media.close()
        self.sock.close()

    def _start_receiver(self) -> None:
        self._generation += 1
        self._heartbeat = time.monotonic()
        self._receiver = threading.Thread(
            target=self._receive,
            args=(self._generation,),
            name=f"sip-receive-{self._generation}",
            daemon=True,
        )
        self._receiver.start()

    def _watchdog(self) -> None:
        limit = self.settings.watchdog_seconds
        while not self._sleep(min(1.0, limit / 4)):
            receiver = self._receiver
            stalled = time.monotonic() - self._heartbeat > limit
            if receiver is None or not receiver.is_alive() or stalled:
                log.error("SIP receive thread stuck or dead; starting a new one")
                WATCHDOG_RESTARTS.inc()
                self._start_receiver()

    def _register(self) -> None:
        self.registration.run(
            keep_going=lambda: not self._stopped.is_set() and self.accepting, sleep=self._sleep
        )

    def _sleep(self, seconds: float) -> bool:
        """Wait `seconds` unless stopping; True when the server stopped meanwhile."""
        return self._stopped.wait(seconds)

    # -- receiving -------------------------------------------------------------------------------------

    def _receive(self, generation: int) -> None:
        while not self._stopped.is_set() and generation == self._generation:
            self._heartbeat = time.monotonic()
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.25)
                if not ready:
                    continue
                data, source = self.sock.recvfrom(MAX_DATAGRAM)
            except (OSError, ValueError):
                if self._stopped.is_set():
                    return
                continue
            received_at, received = datetime.now(UTC), time.monotonic()
            try:
                self.handle_datagram(data, source, received_at, received)
            except Exception:
                log.exception("SIP datagram handling failed; the endpoint carries on")

    def handle_datagram(
        self, data: bytes, source: tuple[str, int], received_at: datetime, received: float
    ) -> None:
        """Parse one datagram and hand it to its method's handler, or reject it with a reason."""
        if not self._from_edge(source):
            return
        try:
            message = sipmsg.parse(data)
        except sipmsg.SipParseError as error:
            self._reject(error, source)
            return
        if not message.is_request:
            self._on_response(message)
            return
        REQUESTS.labels(message.method if message.method in self.handlers else "other").inc()
        handler = self.handlers.get(message.method, self._on_unsupported)
        handler(message, source, received_at, received)

    def _from_edge(self, source: tuple[str, int]) -> bool:
        """Only the edge may speak to this socket: what it refuses must not arrive by another way."""
        if self.settings.edge_sources:
            address = ipaddress.ip_address(source[0])
            if any(address in network for network in self.settings.edge_sources):
                return True
            REJECTED.labels("not-from-edge").inc()
            return False
        if source[0] in self._edge_addresses:
            return True
        self._edge_addresses = edge_addresses(self.settings.edge)  # the edge may have moved (DNS)
        if source[0] in self._edge_addresses:
            return True
        REJECTED.labels("not-from-edge").inc()
        log.warning("SIP datagram from outside the edge dropped", extra={"fields": {"peer": source[0]}})
        return False

    def _reject(self, error: sipmsg.SipParseError, source: tuple[str, int]) -> None:
        REJECTED.labels(error.reason.split(" ")[0]).inc()
        if error.reason.startswith("empty datagram"):
            return  # keep-alives (CRLF, NUL words) are normal and need no reply
        log.info("SIP datagram rejected", extra={"fields": {"reason": error.reason, "peer": source[0]}})
        partial = error.partial
        if partial is not None and partial.is_request and partial.method != "ACK" and partial.get_all("Via"):
            self._send(signalling.reply(partial, 400, f"Bad Request ({error.reason})"), source)

    def _send(self, data: bytes, destination: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, destination)
        except OSError as exc:
            log.warning("SIP send failed", extra={"fields": {"error": repr(exc)}})

    # -- requests --------------------------------------------------------------------------------------

    def _on_invite(self, invite: sipmsg.SipMessage, source, received_at: datetime, received: float) -> None:
        call_id = invite.call_id
        if invite.tag("To"):
            self._on_reinvite(invite, source)
            return
        with self._lock:
            known = self.dialogs.get(call_id) or self._finished.get(call_id)
            if known is not None:
                self._retransmit(known, source)
                return
            refusal = self._refusal(invite)
            if refusal is not None:
                status, reason = refusal
                if status == 503:
                    final = signalling.reply(invite, status, reason, Retry_After="5")
                elif status == 420:
                    final = signalling.reply(
                        invite, status, reason, Unsupported=", ".join(unsupported(invite))
                    )
                else:
                    final = signalling.reply(invite, status, reason)
                self._send(final, source)
                return
            to_tag = signalling.new_tag()
            ringing = signalling.provisional(invite, to_tag=to_tag, contact=self.contact)
            self._send(ringing, source)
            dialog = Dialog(call_id, invite, source, to_tag, DialogState.RINGING, ringing)
            self.dialogs[call_id] = dialog
            # Still under the lock: an answer that `ringing` schedules waits until the media is ready.
            record = self.calls.ringing(
                call_id=call_id, invite=invite, received_at=received_at, received=received
            )
            if record:
                self._take_media(dialog)

    def _refusal(self, invite: sipmsg.SipMessage) -> tuple[int, str] | None:
        if not self.accepting:
            return 503, "Shutting Down"
        if unsupported(invite):
            return 420, "Bad Extension"
        codecs, _ = signalling.audio_offer(invite.body)
        if not codecs & signalling.RECORDABLE:
            return 488, "Not Acceptable Here"
        reason = self.calls.refusal()
        if reason is not None:
            return 503, reason
        return None

    def _take_media(self, dialog: Dialog) -> None:
        try:
            self.media.create(
                call_id=dialog.call_id,
                invite=signalling.pyvoip_invite(dialog.invite),
                from_value=dialog.invite.get("From"),
                to_value=dialog.invite.get("To"),
                to_tag=dialog.to_tag,
                route=dialog.invite.get_all("Record-Route"),
                sink=self.calls.audio_sink(dialog.call_id),
            )
            dialog.media = True
        except MediaError as exc:
            log.warning("call rings but cannot be recorded", extra={"fields": {"error": str(exc)}})

    def _retransmit(self, dialog: Dialog, source) -> None:
        if dialog.state is DialogState.ANSWERED:
            answer = self.media.answer_message(dialog.call_id, signalling.pyvoip_invite(dialog.invite))
            if answer is not None:
                self._send(answer, self.settings.edge)
            return
        self._send(dialog.last_response, source)

    def _on_reinvite(self, invite: sipmsg.SipMessage, source) -> None:
        dialog = self.dialogs.get(invite.call_id)
        if dialog is None or dialog.state is not DialogState.ANSWERED or not dialog.media:
            self._send(signalling.reply(invite, 481, "Call/Transaction Does Not Exist"), source)
            return
        if not self.media.renegotiate(invite.call_id, signalling.pyvoip_invite(invite)):
            self._send(signalling.reply(invite, 481, "Call/Transaction Does Not Exist"), source)

    def _on_ack(self, ack: sipmsg.SipMessage, source, received_at, received) -> None:
        """ACKs confirm our 200 or 487; nothing to send."""

    def _on_cancel(self, cancel: sipmsg.SipMessage, source, received_at, received) -> None:
        with self._lock:
            dialog = self.dialogs.get(cancel.call_id)
            if dialog is None:
                self._send(signalling.reply(cancel, 481, "Call/Transaction Does Not Exist"), source)
                return
            self._send(signalling.reply(cancel, 200, "OK", to_tag=dialog.to_tag), source)
            if dialog.state is not DialogState.RINGING:
                return
            final = sipmsg.response(dialog.invite, 487, "Request Terminated", to_tag=dialog.to_tag)
            self._send(final, dialog.source)
            self.media.release(dialog.call_id)
            self._finish(dialog, final)
        self.calls.ended(call_id=dialog.call_id, reason=EndReason.CANCELLED)

    def _on_bye(self, bye: sipmsg.SipMessage, source, received_at, received) -> None:
        with self._lock:
            dialog = self.dialogs.get(bye.call_id)
            if dialog is None:
                self._send(signalling.reply(bye, 481, "Call/Transaction Does Not Exist"), source)
                return
            self._send(signalling.reply(bye, 200, "OK"), source)
            answered = dialog.state is DialogState.ANSWERED
            self.media.release(dialog.call_id)
            self._finish(dialog, dialog.last_response)
        reason = EndReason.CALLER_HUNG_UP if answered else EndReason.CANCELLED
        self.calls.ended(call_id=dialog.call_id, reason=reason)

    def _on_options(self, options: sipmsg.SipMessage, source, received_at, received) -> None:
        self._send(
            signalling.reply(options, 200, "OK", Allow=signalling.ALLOW, Accept="application/sdp"), source
        )

    def _on_info(self, info: sipmsg.SipMessage, source, received_at, received) -> None:
        if info.call_id in self.dialogs:
            self._send(signalling.reply(info, 200, "OK"), source)
        else:
            self._send(signalling.reply(info, 481, "Call/Transaction Does Not Exist"), source)

    def _on_unsupported(self, request: sipmsg.SipMessage, source, received_at, received) -> None:
        self._send(signalling.reply(request, 405, "Method Not Allowed", Allow=signalling.ALLOW), source)

    def _on_response(self, response: sipmsg.SipMessage) -> None:
        self.registration.on_response(response)

    def _finish(self, dialog: Dialog, final: bytes) -> None:
        dialog.state = DialogState.ENDED
        dialog.last_response = final
        self.dialogs.pop(dialog.call_id, None)
        self._finished[dialog.call_id] = dialog
        while len(self._finished) > 10_000:
            self._finished.popitem(last=False)

    # -- what the service asks -------------------------------------------------------------------------

    def answer(self, call_id: str) -> bool:
        """Answer a ringing call as the recording leg; False when it has ended or cannot be recorded."""
        with self._lock:
            dialog = self.dialogs.get(call_id)
            if dialog is None or dialog.state is not DialogState.RINGING or not dialog.media:
                return False
            try:
                self.media.answer(call_id)
            except MediaError as exc:
                log.warning("answer failed", extra={"fields": {"error": str(exc)}})
                self._finish(dialog, dialog.last_response)
                failed = True
            else:
                dialog.state = DialogState.ANSWERED
                failed = False
        if failed:
            self.calls.ended(call_id=call_id, reason=EndReason.FAILED)
            return False
        self.calls.answered(call_id=call_id)
        return True

    def hang_up(self, call_id: str, reason: EndReason = EndReason.COMPLETED) -> None:
        """End a call from our side: BYE when answered, a refusal while it rings."""
        with self._lock:
            dialog = self.dialogs.get(call_id)
            if dialog is None:
                return
            if dialog.state is DialogState.ANSWERED:
                self.media.hang_up(call_id)
            elif dialog.media:
                self.media.deny(call_id)
                reason = EndReason.FAILED
            else:
                self._send(
                    sipmsg.response(dialog.invite, 480, "Temporarily Unavailable", to_tag=dialog.to_tag),
                    dialog.source,
                )
                reason = EndReason.FAILED
            self._finish(dialog, dialog.last_response)
        self.calls.ended(call_id=call_id, reason=reason)
