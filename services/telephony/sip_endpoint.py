"""The adapter around pyVoIP 1.6.8: the only module that imports it.

pyVoIP builds the answer and runs each call's RTP. Its classes are subclassed here, each override the
smallest one that guards one defect DESIGN.md lists, and `MediaStack` is all the rest of the service sees:
plain strings and bytes in, no pyVoIP type out.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import warnings
from collections.abc import Callable

from prometheus_client import Counter

from services.telephony.media_pools import RtpPortPool, SessionIds

with warnings.catch_warnings():
    # pyVoIP imports audioop (deprecated, gone in 3.13); our recorder decodes G.711 without it.
    warnings.simplefilter("ignore", DeprecationWarning)
    # pyVoIP.VoIP must be imported before pyVoIP.SIP, or the package's circular import fails.
    import pyVoIP.VoIP
    from pyVoIP import RTP, SIP
    from pyVoIP.VoIP import CallState, VoIPCall, VoIPPhone

log = logging.getLogger(__name__)

PacketSink = Callable[[bytes], None]
ForeignRtp = Counter(
    "crs_telephony_rtp_packets_foreign_total",
    "RTP packets dropped because they came from another address than the SDP peer's",
)


class RtpReceiver:
    """One thread reading every call's RTP socket through epoll.

    pyVoIP gives each call a receive thread that polls with a 10 ms sleep; with a few hundred calls the
    threads' wake-ups and GIL hand-offs cost more than the audio. Each packet is delivered on its own, so
    one that cannot be handled is counted and skipped, and never stops the call's audio.
    """

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._stopping = False
        self.rejected_packets = 0
        self._thread = threading.Thread(target=self._run, name="rtp-receive", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, deliver: Callable[[bytes, tuple[str, int]], None]) -> None:
        sock.setblocking(False)
        with self._lock:
            self._selector.register(sock, selectors.EVENT_READ, deliver)

    def remove(self, sock: socket.socket) -> None:
        with self._lock:
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass

    def close(self) -> None:
        self._stopping = True
        self._thread.join(timeout=2)
        self._selector.close()

    def _run(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select(timeout=0.25):
                self._read(key.fileobj, key.data)

    def _read(self, sock: socket.socket, deliver: Callable[[bytes, tuple[str, int]], None]) -> None:
        for _ in range(64):  # bounded, so one busy socket cannot starve the others
            try:
                packet, source = sock.recvfrom(8192)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # closed by a hang-up between the poll and the read
            try:
                deliver(packet, source)
            except Exception:
                self.rejected_packets += 1
                log.warning("RTP packet rejected", exc_info=True)


class GuardedRtpClient(RTP.RTPClient):
    """An RTP leg whose packets go to `sink` through the shared `RtpReceiver`.

    Guards: pyVoIP's receive loop dies on the first packet its parser cannot take (1 byte, an empty or
    out-of-range telephone-event), and polls with a 10 ms sleep in a thread per call; it takes packets
    from any source. A recording leg answers `recvonly` and starts no transmit thread.
    """

    def __init__(
        self, assoc, in_ip, in_port, out_ip, out_port, sendrecv, *, dtmf, sink: PacketSink, receiver
    ):
        super().__init__(assoc, in_ip, in_port, out_ip, out_port, sendrecv, dtmf=dtmf)
        self.sendrecv = sendrecv
        self.sink = sink
        self.receiver: RtpReceiver = receiver
        self.started = False

    def start(self) -> None:
        self.sin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sout = self.sin
        self.sin.bind((self.inIP, self.inPort))
        self.started = True
        self.receiver.add(self.sin, self.parse_packet)
        if str(self.sendrecv) != "recvonly":
            threading.Thread(target=self.trans, name=f"rtp-out-{self.inPort}", daemon=True).start()

    def stop(self) -> None:
        self.NSD = False
        if self.started:
            self.started = False
            self.receiver.remove(self.sin)
            self.sin.close()

    def parse_packet(self, packet: bytes, source: tuple[str, int] | None = None) -> None:
        """Only the SDP peer's packets are audio of this call: anything from another address or port is
        dropped, so a third party cannot inject into a recording (docs/telephony.md: why not latching)."""
        if source is not None and (source[0], source[1]) != (self.outIP, self.outPort):
            ForeignRtp.inc()
            return
        self.sink(packet)


class GuardedCall(VoIPCall):
    """A pyVoIP call that records its RTP ports, denies and renegotiates without leaking.

    Guards: `deny()` raises AttributeError after the 486 (it stops RTP clients that never started) and
    leaves the call in `phone.calls`; a re-INVITE starts another pair of RTP threads per re-INVITE; the
    constructor resets the process's warning filters on an unknown payload type.
    """

    def __init__(self, phone: GuardedPhone, request: SIP.SIPMessage, session_id: int, sink: PacketSink):
        self.sink = sink
        self.receiver = phone.rtp_receiver
        with warnings.catch_warnings():
            super().__init__(phone, CallState.RINGING, request, session_id, phone.myIP, sendmode="recvonly")

    def create_rtp_clients(self, codecs, ip, port, request, baseport) -> None:
        self.assignedPorts[port] = codecs
        for index in range(len(request.body["c"])):
            self.RTPClients.append(
                GuardedRtpClient(
                    codecs,
                    ip,
                    port,
                    request.body["c"][index]["address"],
                    baseport + index,
                    self.sendmode,
                    dtmf=self.dtmf_callback,
                    sink=self.sink,
                    receiver=self.receiver,
                )
            )

    def deny(self) -> None:
        if self.state == CallState.RINGING:
            message = self.sip.gen_busy(self.request)
            self.sip.out.sendto(message.encode(), (self.phone.server, self.phone.port))
        self.release()

    def release(self) -> None:
        """Stop RTP, give the ports back and forget the call; safe to call more than once."""
        for client in self.RTPClients:
            client.stop()
        self.state = CallState.ENDED
        self.phone.release_ports(call=self)
        self.phone.calls.pop(self.call_id, None)

    def renegotiate(self, request: SIP.SIPMessage) -> None:
        media = {client.inPort: client.assoc for client in self.RTPClients}
        message = self.sip.gen_answer(request, self.session_id, media, self.sendmode)
        self.sip.out.sendto(message.encode(), (self.phone.server, self.phone.port))
        for media_line in request.body.get("m", []):
            if media_line["type"] != "audio":
                continue
            for index, client in enumerate(self.RTPClients):
                client.outIP = request.body["c"][min(index, len(request.body["c"]) - 1)]["address"]
                client.outPort = media_line["port"] + index


class GuardedSipClient(SIP.SIPClient):
    """pyVoIP's message builders, sending through the endpoint's socket (no socket or threads of its own).

    Guards: the 200 and BYE it builds copy From and To from its own parse, which mangles display names and
    cannot hold tel: or sips: URIs, so they are put back as they came; its BYE ignores Record-Route, so the
    route set is added.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dialogs: dict[str, dict[str, object]] = {}

    def remember(
        self, call_id: str, *, from_value: str, to_value: str, to_tag: str, route: list[str]
    ) -> None:
        self.dialogs[call_id] = {"from": from_value, "to": to_value, "tag": to_tag, "route": route}
        self.tagLibrary[call_id] = to_tag

    def forget(self, call_id: str) -> None:
        self.dialogs.pop(call_id, None)
        self.tagLibrary.pop(call_id, None)

    def _restore(self, text: str, call_id: str, *, ours_first: bool) -> str:
        dialog = self.dialogs.get(call_id)
        if dialog is None:
            return text
        theirs = f"{dialog['from']}"
        ours = f"{dialog['to']};tag={dialog['tag']}"
        head, _, body = text.partition("\r\n\r\n")
        lines = []
        for line in head.split("\r\n"):
            if line.startswith("From: "):
                line = f"From: {ours if ours_first else theirs}"
            elif line.startswith("To: "):
                line = f"To: {theirs if ours_first else ours}"
            lines.append(line)
        return "\r\n".join(lines) + "\r\n\r\n" + body

    def gen_answer(self, request, sess_id, ms, sendtype) -> str:
        text = super().gen_answer(request, sess_id, ms, sendtype)
        return self._restore(text, request.headers["Call-ID"], ours_first=False)

    def gen_busy(self, request) -> str:
        text = super().gen_busy(request)
        return self._restore(text, request.headers["Call-ID"], ours_first=False)

    def gen_bye(self, request) -> str:
        call_id = request.headers["Call-ID"]
        text = self._restore(super().gen_bye(request), call_id, ours_first=True)
        route = (self.dialogs.get(call_id) or {}).get("route") or []
        if route:
            # A UAS uses the Record-Route set in the order it arrived (RFC 3261 section 12.1.1).
            start, _, rest = text.partition("\r\n")
            text = start + "\r\n" + "".join(f"Route: {hop}\r\n" for hop in route) + rest
        return text


class GuardedPhone(VoIPPhone):
    """The phone object pyVoIP's calls hang off; it never starts pyVoIP's own SIP client or registration.

    Guards: ports come from a pool that takes them back; session ids are freed.
    """

    def __init__(
        self,
        *,
        sock: socket.socket,
        edge: tuple[str, int],
        host: str,
        port: int,
        username: str,
        rtp_low: int,
        rtp_high: int,
    ):
        super().__init__(
            edge[0], edge[1], username, "", myIP=host, sipPort=port, rtpPortLow=rtp_low, rtpPortHigh=rtp_high
        )
        self.sip = GuardedSipClient(edge[0], edge[1], username, "", phone=self, myIP=host, myPort=port)
        self.sip.s = self.sip.out = sock
        self.ports = RtpPortPool(rtp_low, rtp_high, host)
        self.rtp_receiver = RtpReceiver()
        self.session_pool = SessionIds()

    def request_port(self, blocking: bool = True) -> int:
        return self.ports.take()

    def release_ports(self, call: VoIPCall | None = None) -> None:
        if call is None:
            return
        for port in list(call.assignedPorts):
            self.ports.give_back(port)
        call.assignedPorts = {}


class MediaError(RuntimeError):
    """pyVoIP could not take the call (no RTP port, an offer it cannot parse)."""


class MediaStack:
    """pyVoIP calls by Call-ID: created when an INVITE rings, answered, renegotiated, ended."""

    def __init__(
        self,
        *,
        sock: socket.socket,
        edge: tuple[str, int],
        host: str,
        port: int,
        username: str,
        rtp_low: int,
        rtp_high: int,
    ):
        pyVoIP.DEBUG = False
        self.phone = GuardedPhone(
            sock=sock, edge=edge, host=host, port=port, username=username, rtp_low=rtp_low, rtp_high=rtp_high
        )
        self._lock = threading.Lock()
        self._sessions: dict[str, int] = {}

    def create(
        self,
        *,
        call_id: str,
        invite: bytes,
        from_value: str,
        to_value: str,
        to_tag: str,
        route: list[str],
        sink: PacketSink,
    ) -> None:
        """Let pyVoIP take a ringing call from `invite` (already reduced by `signalling.pyvoip_invite`)."""
        session_id = self.phone.session_pool.take()
        self.phone.sip.remember(call_id, from_value=from_value, to_value=to_value, to_tag=to_tag, route=route)
        try:
            call = GuardedCall(self.phone, SIP.SIPMessage(invite), session_id, sink)
        except Exception as exc:
            self.phone.session_pool.give_back(session_id)
            self.phone.sip.forget(call_id)
            raise MediaError(f"pyVoIP refused the call: {exc!r}") from exc
        if not call.RTPClients:
            call.release()
            self.phone.session_pool.give_back(session_id)
            self.phone.sip.forget(call_id)
            raise MediaError("no audio stream pyVoIP can take")
        with self._lock:
            self.phone.calls[call_id] = call
            self._sessions[call_id] = session_id

    def _call(self, call_id: str) -> GuardedCall | None:
        with self._lock:
            return self.phone.calls.get(call_id)

    def answer(self, call_id: str) -> bool:
        """Send pyVoIP's 200 with our SDP and start receiving RTP; False when the call is gone."""
        call = self._call(call_id)
        if call is None or call.state != CallState.RINGING:
            return False
        try:
            call.answer()
        except Exception as exc:
            self.deny(call_id)
            raise MediaError(f"answering failed: {exc!r}") from exc
        return True

    def answer_message(self, call_id: str, invite: bytes) -> bytes | None:
        """pyVoIP's 200 for a retransmitted INVITE or a re-INVITE, without starting anything."""
        call = self._call(call_id)
        if call is None or call.state != CallState.ANSWERED:
            return None
        media = {client.inPort: client.assoc for client in call.RTPClients}
        return self.phone.sip.gen_answer(
            SIP.SIPMessage(invite), call.session_id, media, call.sendmode
        ).encode()

    def renegotiate(self, call_id: str, invite: bytes) -> bool:
        """Answer a re-INVITE and follow the far end's new address; no new RTP threads."""
        call = self._call(call_id)
        if call is None or call.state != CallState.ANSWERED:
            return False
        call.renegotiate(SIP.SIPMessage(invite))
        return True

    def deny(self, call_id: str) -> None:
        """Refuse a ringing call with pyVoIP's 486 and free everything it held."""
        call = self._call(call_id)
        if call is not None:
            call.deny()
        self._forget(call_id)

    def hang_up(self, call_id: str) -> None:
        """End an answered call from our side: pyVoIP's BYE, with the route set."""
        call = self._call(call_id)
        if call is not None and call.state == CallState.ANSWERED:
            try:
                call.hangup()
            finally:
                call.release()
        elif call is not None:
            call.release()
        self._forget(call_id)

    def release(self, call_id: str) -> None:
        """Free a call the far end ended (CANCEL or BYE); sends nothing."""
        call = self._call(call_id)
        if call is not None:
            call.release()
        self._forget(call_id)

    def _forget(self, call_id: str) -> None:
        with self._lock:
            self.phone.calls.pop(call_id, None)
            session_id = self._sessions.pop(call_id, None)
        if session_id is not None:
            self.phone.session_pool.give_back(session_id)
        self.phone.sip.forget(call_id)

    def close(self) -> None:
        """Stop the RTP receive thread; calls must have ended."""
        self.phone.rtp_receiver.close()

    @property
    def calls(self) -> int:
        return len(self.phone.calls)

    @property
    def rtp_ports_in_use(self) -> int:
        return self.phone.ports.in_use

    @property
    def session_ids_in_use(self) -> int:
        return self.phone.session_pool.in_use
