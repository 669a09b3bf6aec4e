"""Each guard around pyVoIP, shown on a live endpoint: real UDP sockets, real pyVoIP, a fake edge.

The fake edge is a UDP socket that accepts REGISTER (or not, when a test says so) and keeps everything
the endpoint sends it; pyVoIP sends its 200s, 486s and BYEs there. Callers are plain UDP sockets.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field

import pytest

from services.telephony import sipmsg
from services.telephony.calls import EndReason
from services.telephony.recorder import Recording
from services.telephony.sip_server import SipServer, SipSettings
from tests.support.wait import wait_for

# RTP ports of this test run, apart from those of other runs on the same machine.
RTP_BASE = 42000 + (os.getpid() % 500) * 40


class FakeEdge:
    """A registrar that answers REGISTER with `register_status` (None: silence) and records the rest."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = self.sock.getsockname()
        self.register_status: int | None = 200
        self.registers = 0
        self.received: list[sipmsg.SipMessage] = []
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while self._running:
            try:
                data, source = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            message = sipmsg.parse(data)
            if message.method == "REGISTER":
                self.registers += 1
                if self.register_status is not None:
                    self.sock.sendto(
                        sipmsg.response(message, self.register_status, "Reply", to_tag="e1"), source
                    )
            else:
                self.received.append(message)

    def responses(self, call_id: str, status: int | None = None) -> list[sipmsg.SipMessage]:
        return [
            m for m in list(self.received) if m.call_id == call_id and (status is None or m.status == status)
        ]

    def requests(self, call_id: str, method: str) -> list[sipmsg.SipMessage]:
        return [m for m in list(self.received) if m.call_id == call_id and m.method == method]

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self.sock.close()


@dataclass
class FakeCalls:
    """The service side of the endpoint: records what it is told; records audio for every call."""

    record: bool = True
    ringing_after: dict[str, float] = field(default_factory=dict)
    ended_with: dict[str, EndReason] = field(default_factory=dict)
    answered_calls: list[str] = field(default_factory=list)
    recordings: dict[str, Recording] = field(default_factory=dict)

    def refusal(self):
        return None

    def ringing(self, *, call_id, invite, received_at, received) -> bool:
        self.ringing_after[call_id] = time.monotonic() - received
        if self.record:
            self.recordings[call_id] = Recording()
        return self.record

    def answered(self, *, call_id) -> None:
        self.answered_calls.append(call_id)

    def ended(self, *, call_id, reason) -> None:
        self.ended_with[call_id] = reason

    def audio_sink(self, call_id):
        return self.recordings[call_id].feed


class Caller:
    """A SIP caller socket with an RTP socket, sending straight to the endpoint."""

    def __init__(self, server: SipServer):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.received: list[sipmsg.SipMessage] = []

    def invite(self, call_id: str, *, to_tag: str = "", cseq: int = 1, record_route: str = "") -> bytes:
        sdp = (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 0 96 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
        )
        headers = [
            f"INVITE sip:1001@127.0.0.1:{self.server.port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{call_id[:8]}{cseq}",
            'From: "Jane" <sip:6145550123@127.0.0.1>;tag=caller1',
            "To: <sip:1001@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} INVITE",
            f"Contact: <sip:caller@127.0.0.1:{self.port}>",
            *([f"Record-Route: {record_route}"] if record_route else []),
            "Content-Type: application/sdp",
            f"Content-Length: {len(sdp)}",
        ]
        return ("\r\n".join(headers) + "\r\n\r\n" + sdp).encode()

    def cancel(self, call_id: str) -> bytes:
        return (
            f"CANCEL sip:1001@127.0.0.1:{self.server.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{call_id[:8]}1\r\n"
            'From: "Jane" <sip:6145550123@127.0.0.1>;tag=caller1\r\nTo: <sip:1001@127.0.0.1>\r\n'
            f"Call-ID: {call_id}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.server.port))

    def collect(self) -> list[sipmsg.SipMessage]:
        while True:
            try:
                self.received.append(sipmsg.parse(self.sock.recv(65535)))
            except TimeoutError:
                return self.received

    def got(self, call_id: str, status: int) -> bool:
        return any(m.call_id == call_id and m.status == status for m in self.collect())

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()


@pytest.fixture
def edge():
    fake = FakeEdge()
    yield fake
    fake.close()


def make_server(edge: FakeEdge, calls: FakeCalls, **overrides) -> SipServer:
    settings = dict(
        bind_host="127.0.0.1",
        port=0,
        advertise_host="127.0.0.1",
        edge=edge.address,
        username="crs-telephony",
        password="guard-test-password",
        register_expires=300,
        rtp_low=RTP_BASE,
        rtp_high=RTP_BASE + 29,
        watchdog_seconds=5.0,
    )
    settings.update(overrides)
    server = SipServer(settings=SipSettings(**settings), calls=calls)
    server.start()
    wait_for(server.registered.is_set, timeout=5, what="registration")
    return server


@pytest.fixture
def calls():
    return FakeCalls()


@pytest.fixture
def server(edge, calls):
    endpoint = make_server(edge, calls)
    yield endpoint
    endpoint.stop()
    endpoint.close()


@pytest.fixture
def caller(server):
    peer = Caller(server)
    yield peer
    peer.close()


def new_call_id() -> str:
    return f"{uuid.uuid4().hex}@127.0.0.1"


def rtp_packet(sequence: int, timestamp: int, payload: bytes, payload_type: int = 0) -> bytes:
    return struct.pack("!BBHII", 0x80, payload_type, sequence, timestamp, 0x1234) + payload


def test_ringing_fires_from_the_sip_layer_not_behind_a_timer(server, caller, calls):
    call_id = new_call_id()
    caller.send(caller.invite(call_id))
    wait_for(lambda: caller.got(call_id, 180), timeout=5, what="180 Ringing")
    # pyVoIP's own callback runs behind a one-second Timer.
    assert calls.ringing_after[call_id] < 0.5


def test_retransmitted_invite_rings_once(server, caller, calls):
    call_id = new_call_id()
    for _ in range(3):
        caller.send(caller.invite(call_id))
    wait_for(
        lambda: len([m for m in caller.collect() if m.call_id == call_id and m.status == 180]) == 3, timeout=5
    )
    assert len(calls.ringing_after) == 1
    tags = {m.tag("To") for m in caller.received if m.call_id == call_id}
    assert len(tags) == 1


def test_cancel_gets_487_and_ends_the_call(server, caller, calls):
    call_id = new_call_id()
    caller.send(caller.invite(call_id))
    wait_for(lambda: caller.got(call_id, 180), timeout=5)
    assert server.media.rtp_ports_in_use == 1
    caller.send(caller.cancel(call_id))
    wait_for(lambda: caller.got(call_id, 487), timeout=5, what="487 Request Terminated")
    assert any(m.status == 200 and m.cseq[1] == "CANCEL" for m in caller.received)
    assert calls.ended_with[call_id] is EndReason.CANCELLED
    assert (server.media.calls, server.media.rtp_ports_in_use, len(server.dialogs)) == (0, 0, 0)


def test_refusing_a_ringing_call_sends_486_and_leaks_nothing(server, caller, calls, edge):
    call_id = new_call_id()
    caller.send(caller.invite(call_id))
    wait_for(lambda: caller.got(call_id, 180), timeout=5)
    server.hang_up(call_id)  # pyVoIP's deny() raised AttributeError here and kept the call
    wait_for(lambda: edge.responses(call_id, 486), timeout=5, what="486 Busy Here")
    assert calls.ended_with[call_id] is EndReason.FAILED
    assert (server.media.calls, server.media.rtp_ports_in_use, server.media.session_ids_in_use) == (0, 0, 0)


def answer(server: SipServer, caller: Caller, edge: FakeEdge, call_id: str, **invite) -> None:
    caller.send(caller.invite(call_id, **invite))
    wait_for(lambda: caller.got(call_id, 180), timeout=5)
    assert server.answer(call_id)
    wait_for(lambda: edge.responses(call_id, 200), timeout=5, what="pyVoIP's 200 OK")


def test_reinvites_add_no_rtp_threads(server, caller, calls, edge):
    call_id = new_call_id()
    answer(server, caller, edge, call_id)
    threads = threading.active_count()
    to_tag = edge.responses(call_id, 200)[0].tag("To")
    for cseq in range(2, 6):
        caller.send(caller.invite(call_id, to_tag=to_tag, cseq=cseq))
    wait_for(lambda: len(edge.responses(call_id, 200)) == 5, timeout=5, what="a 200 per re-INVITE")
    assert threading.active_count() == threads
    assert server.media.rtp_ports_in_use == 1


def test_bad_rtp_packets_do_not_stop_the_audio(server, caller, calls, edge):
    call_id = new_call_id()
    answer(server, caller, edge, call_id)
    sdp = edge.responses(call_id, 200)[0].body.decode()
    rtp_port = int(next(line for line in sdp.splitlines() if line.startswith("m=audio")).split()[1])
    target = ("127.0.0.1", rtp_port)
    for bad in (b"\x80", rtp_packet(1, 0, b"", 101), rtp_packet(2, 0, b"\xff\x00\x00\x00", 101), b"\x00" * 5):
        caller.rtp.sendto(bad, target)
    for sequence in range(3, 8):
        caller.rtp.sendto(rtp_packet(sequence, sequence * 160, b"\x00" * 160), target)
    recording = calls.recordings[call_id]
    wait_for(lambda: recording.packets == 5, timeout=5, what="the good packets after the bad ones")


def test_bye_and_route_set(server, caller, calls, edge):
    call_id = new_call_id()
    answer(server, caller, edge, call_id, record_route="<sip:127.0.0.1:5999;lr>")
    server.hang_up(call_id)
    bye = wait_for(lambda: edge.requests(call_id, "BYE"), timeout=5, what="BYE")[0]
    # pyVoIP's BYE carries no Route; a proxy that record-routed could not route it back.
    assert bye.get_all("Route") == ["<sip:127.0.0.1:5999;lr>"]
    assert bye.get("From").endswith(";tag=" + edge.responses(call_id, 200)[0].tag("To"))
    assert bye.tag("To") == "caller1"
    assert calls.ended_with[call_id] is EndReason.COMPLETED


def test_ports_and_session_ids_come_back(edge, calls):
    # Two RTP ports for twenty calls: each call must give its port back for the next ones to be answered.
    endpoint = make_server(edge, calls, rtp_low=RTP_BASE + 32, rtp_high=RTP_BASE + 35)
    peer = Caller(endpoint)
    try:
        for _ in range(20):
            call_id = new_call_id()
            answer(endpoint, peer, edge, call_id)
            endpoint.hang_up(call_id)
            assert calls.ended_with[call_id] is EndReason.COMPLETED
        assert (endpoint.media.rtp_ports_in_use, endpoint.media.session_ids_in_use) == (0, 0)
    finally:
        peer.close()
        endpoint.stop()
        endpoint.close()


def test_library_leaves_the_warning_filters_alone(server, caller, edge):
    before = list(warnings.filters)
    answer(server, caller, edge, new_call_id())
    assert warnings.filters == before


def test_registration_recovers_after_the_edge_stops_answering(edge, calls):
    endpoint = make_server(edge, calls, register_expires=2)
    try:
        edge.register_status = None
        wait_for(lambda: not endpoint.registered.is_set(), timeout=10, what="the refresh to fail")
        edge.register_status = 500
        count = edge.registers
        wait_for(lambda: edge.registers > count + 1, timeout=10, what="retries after a failure")
        edge.register_status = 200
        wait_for(endpoint.registered.is_set, timeout=10, what="registered again")
    finally:
        endpoint.stop()
        endpoint.close()


def test_invite_during_a_register_refresh_is_not_misread(edge, calls):
    endpoint = make_server(edge, calls, register_expires=2)
    peer = Caller(endpoint)
    try:
        deadline = time.monotonic() + 3  # spans at least one refresh
        call_ids = []
        while time.monotonic() < deadline:
            call_ids.append(new_call_id())
            peer.send(peer.invite(call_ids[-1]))
            peer.send(peer.cancel(call_ids[-1]))
            wait_for(lambda cid=call_ids[-1]: peer.got(cid, 487), timeout=5)
        assert endpoint.registered.is_set()
        assert all(calls.ended_with[cid] is EndReason.CANCELLED for cid in call_ids)
    finally:
        peer.close()
        endpoint.stop()
        endpoint.close()


def test_watchdog_replaces_a_stuck_receive_thread(edge, calls):
    endpoint = make_server(edge, calls, watchdog_seconds=0.5)
    release = threading.Event()
    endpoint.handlers["INFO"] = lambda *args: release.wait(30)  # a handler that never returns
    peer = Caller(endpoint)
    try:
        info = peer.invite("stuck").replace(b"INVITE", b"INFO")
        peer.send(info)
        call_id = new_call_id()
        peer.send(peer.invite(call_id))
        wait_for(lambda: peer.got(call_id, 180), timeout=10, what="a ring despite the stuck thread")
    finally:
        release.set()
        peer.close()
        endpoint.stop()
        endpoint.close()


def test_malformed_request_gets_400_and_the_endpoint_carries_on(server, caller):
    call_id = new_call_id()
    broken = caller.invite(call_id).replace(b"Content-Length: ", b"Content-Length: 9")
    caller.send(broken)
    wait_for(lambda: caller.got(call_id, 400), timeout=5, what="400 Bad Request")
    other = new_call_id()
    caller.send(caller.invite(other))
    wait_for(lambda: caller.got(other, 180), timeout=5)


def test_stop_ends_every_call(edge, calls):
    endpoint = make_server(edge, calls)
    peer = Caller(endpoint)
    ringing, answered = new_call_id(), new_call_id()
    answer(endpoint, peer, edge, answered)
    peer.send(peer.invite(ringing))
    wait_for(lambda: peer.got(ringing, 180), timeout=5)
    endpoint.stop()
    endpoint.close()
    peer.close()
    assert calls.ended_with == {answered: EndReason.COMPLETED, ringing: EndReason.FAILED}
    assert edge.requests(answered, "BYE") and edge.responses(ringing, 486)
    assert endpoint.media.rtp_ports_in_use == 0


def test_a_call_the_service_cannot_take_gets_503_with_retry_after(edge, calls):
    calls.refusal = lambda: "Too Many Calls"
    endpoint = make_server(edge, calls)
    peer = Caller(endpoint)
    try:
        call_id = new_call_id()
        peer.send(peer.invite(call_id))
        wait_for(lambda: peer.got(call_id, 503), timeout=5, what="503")
        refused = next(m for m in peer.received if m.call_id == call_id and m.status == 503)
        assert refused.get("Retry-After") == "5"
        assert call_id not in calls.ringing_after
    finally:
        peer.close()
        endpoint.stop()
        endpoint.close()
