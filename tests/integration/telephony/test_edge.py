"""The kamailio edge on its own: what it answers itself, before anything reaches telephony."""

from __future__ import annotations

import socket
import uuid

import pytest

from services.telephony import sipmsg
from tests.integration.telephony.stack import start_edge

pytestmark = pytest.mark.sip


def request(
    method: str, edge: str, *, user: str = "1001", body: str = "", extra: str = "", port: int
) -> bytes:
    call_id = uuid.uuid4().hex
    lines = [
        f"{method} sip:{user}@{edge} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id[:12]};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@127.0.0.1>;tag={call_id[:6]}",
        f"To: <sip:{user}@{edge.split(':')[0]}>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:{user}@127.0.0.1:{port}>",
    ]
    if extra:
        lines.append(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def exchange(edge: str, build, *, timeout: float = 2.0) -> sipmsg.SipMessage | None:
    """Send what `build(port)` returns to the edge and return its first final reply (None: silence)."""
    host, port = edge.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        sock.sendto(build(sock.getsockname()[1]), (host, int(port)))
        try:
            while True:
                reply = sipmsg.parse(sock.recv(65535))
                if reply.status >= 200:
                    return reply
        except TimeoutError:
            return None


OPUS_ONLY = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"


def test_options_are_answered_by_the_edge(edge):
    assert exchange(edge, lambda port: request("OPTIONS", edge, port=port)).status == 200


def test_an_offer_without_pcmu_or_pcma_gets_488(edge):
    reply = exchange(edge, lambda port: request("INVITE", edge, body=OPUS_ONLY, port=port))
    assert (reply.status, "PCMU or PCMA" in reply.reason) == (488, True)


def test_an_invite_without_an_offer_gets_488(edge):
    assert exchange(edge, lambda port: request("INVITE", edge, port=port)).status == 488


def test_an_oversized_request_gets_513(edge):
    padding = "X-Padding: " + "a" * 9000
    assert exchange(edge, lambda port: request("OPTIONS", edge, extra=padding, port=port)).status == 513


def test_only_the_telephony_user_may_register(edge):
    assert exchange(edge, lambda port: request("REGISTER", edge, user="1001", port=port)).status == 403


def test_pike_stops_a_flood_from_one_address(tmp_path):
    process, edge = start_edge(tmp_path, pike_density=20)
    try:
        host, port = edge.split(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(1.0)
            local = sock.getsockname()[1]
            for _ in range(200):
                sock.sendto(request("OPTIONS", edge, port=local), (host, int(port)))
            answered = 0
            try:
                while True:
                    sock.recv(65535)
                    answered += 1
            except TimeoutError:
                pass
        assert 0 < answered < 200
    finally:
        process.stop()
