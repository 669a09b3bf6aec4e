"""The kamailio edge on its own: what it answers itself, before anything reaches telephony."""

from __future__ import annotations

import socket
import uuid

import pytest

from services.telephony import digest, sipmsg
from tests.integration.telephony.sipclient import SipClient
from tests.integration.telephony.stack import PEER_PASSWORD, PEER_USERNAME, SIP_PASSWORD, start_edge

pytestmark = pytest.mark.sip
TELEPHONY_USER = "crs-telephony"


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


# -- registration ------------------------------------------------------------------------------------


def test_a_register_without_credentials_is_challenged(edge):
    client = SipClient(edge)
    try:
        got = client.register(user=TELEPHONY_USER, password=None)
    finally:
        client.close()
    assert got.final.status == 401
    assert digest.parse_challenge(got.final.get("WWW-Authenticate")).realm == "crs"


def test_a_register_with_the_wrong_password_is_refused(edge):
    client = SipClient(edge, host="127.0.0.3")
    try:
        got = client.register(user=TELEPHONY_USER, password="not-the-password")
    finally:
        client.close()
    assert got.statuses == [401, 403]


def test_a_register_with_the_right_password_is_accepted(edge):
    client = SipClient(edge, host="127.0.0.4")
    try:
        got = client.register(user=TELEPHONY_USER, password=SIP_PASSWORD)
        # Take the binding back at once, so that no call of another test goes to this socket.
        client.register(user=TELEPHONY_USER, password=SIP_PASSWORD)
    finally:
        client.close()
    assert got.statuses == [401, 200]


@pytest.mark.parametrize("user", ["1001", "admin", "crs-telephony2"])
def test_registrations_for_any_other_user_are_refused_even_with_the_password(edge, user):
    client = SipClient(edge, host="127.0.0.6")
    try:
        got = client.register(user=user, password=SIP_PASSWORD)
    finally:
        client.close()
    assert got.statuses == [403]


def test_failed_attempts_are_logged_and_the_source_is_refused_after_five(tmp_path):
    process, edge = start_edge(tmp_path, CRS_SIP_EDGE_AUTH_FAILURES="5")
    attacker, other = SipClient(edge, host="127.0.0.7"), SipClient(edge, host="127.0.0.8")
    try:
        guesses = [attacker.register(user=TELEPHONY_USER, password=f"guess-{n}").statuses for n in range(5)]
        assert guesses == [[401, 403]] * 5
        # The sixth attempt is refused before any challenge, even with the right password.
        assert attacker.register(user=TELEPHONY_USER, password=SIP_PASSWORD).statuses == [403]
        assert other.register(user=TELEPHONY_USER, password=SIP_PASSWORD).statuses == [401, 200]
        log = process.log()
        assert log.count("auth failed: REGISTER from 127.0.0.7") == 5
        assert "auth refused: 127.0.0.7" in log
    finally:
        attacker.close()
        other.close()
        assert process.stop() == 0


# -- the trust boundary ------------------------------------------------------------------------------


def test_an_invite_from_outside_the_trunks_is_challenged_and_refused_without_credentials(edge):
    client = SipClient(edge, host="127.0.0.2")
    try:
        _, got = client.invite(number="+16145550123", extension="1001")
        assert got.final.status == 407
        _, wrong = client.invite(number="+16145550123", extension="1001", credentials=(PEER_USERNAME, "nope"))
    finally:
        client.close()
    assert wrong.statuses[-1] == 403


def test_a_peer_account_is_no_registrar_account(edge):
    client = SipClient(edge, host="127.0.0.9")
    try:
        got = client.register(user=PEER_USERNAME, password=PEER_PASSWORD)
    finally:
        client.close()
    assert got.statuses == [403]


# -- no open relay -----------------------------------------------------------------------------------


def test_an_in_dialog_request_outside_any_dialog_is_not_relayed(edge):
    """An OPTIONS with a To tag whose Request-URI points at a local UDP listener: the listener gets
    nothing, and the sender gets 481."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(1.0)
    target = f"sip:victim@127.0.0.1:{listener.getsockname()[1]}"
    client = SipClient(edge, host="127.0.0.2")
    try:
        for via_route in ([], [f"Route: <sip:{edge};lr>"]):
            call_id = uuid.uuid4().hex
            client.send(
                client.request(
                    "OPTIONS", target, call_id=call_id, from_uri="sip:a@127.0.0.2", to_uri=target,
                    to_tag="forged", headers=via_route,
                )
            )  # fmt: skip
            assert client.receive(call_id=call_id).statuses == [481]
        with pytest.raises(TimeoutError):
            listener.recv(65535)
    finally:
        client.close()
        listener.close()


# -- rate limits -------------------------------------------------------------------------------------


def flood(edge: str, *, host: str, count: int) -> int:
    """Send `count` OPTIONS at once from `host` and count the answers."""
    client = SipClient(edge, host=host)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    try:
        ids = []
        for _ in range(count):
            call_id = uuid.uuid4().hex
            ids.append(call_id)
            client.send(
                client.request("OPTIONS", f"sip:{edge}", call_id=call_id, from_uri=f"sip:probe@{host}",
                               to_uri=f"sip:{edge}")
            )  # fmt: skip
        client.sock.settimeout(1.0)
        answered = set()
        try:
            while True:
                answered.add(sipmsg.parse(client.sock.recv(65535)).call_id)
        except TimeoutError:
            pass
        return len(answered & set(ids))
    finally:
        client.close()


def test_pike_holds_an_untrusted_source_to_its_density_and_spares_the_trunk(tmp_path):
    process, edge = start_edge(tmp_path, pike_density=20)
    try:
        # Beyond the density, pike drops everything from that address for the rest of the window: a
        # flood of 200 gets the density's worth of answers (pike samples in half-units, and the edge's
        # two workers race a little, so up to twice that), never most of the flood.
        answered = flood(edge, host="127.0.0.2", count=200)
        assert 20 <= answered <= 40, answered
        # The trunk is never blocked (its load is bounded by telephony's call limit): every request of
        # the same flood is answered, so the figure above is pike's work, not loss on the socket.
        assert flood(edge, host="127.0.0.1", count=200) == 200
    finally:
        assert process.stop() == 0
