"""RFC 4475 torture messages (and RFC 5118's IPv6 ones) against the real edge and telephony.

A valid tortuous INVITE is understood: it rings, and the caller ID read from it is the one a careful
reader reads. An invalid message is answered as the RFC says, or dropped where it allows that. Neither
kind stops anything: afterwards both processes are up and an ordinary call still pops.
"""

from __future__ import annotations

import re
import socket

import pytest

from services.cli.call import CallPlan, place_call
from services.telephony import sipmsg
from tests.integration.telephony.stack import BusListener, start_edge, start_telephony
from tests.sip.torture import INVALID, VALID, Torture

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url):
    tmp = tmp_path_factory.mktemp("torture")
    edge_process, edge = start_edge(tmp)
    service = start_telephony(tmp, amqp_url=amqp_url, edge=edge)
    yield edge, service, edge_process
    assert service.process.stop() == 0, service.process.log()[-3000:]
    assert edge_process.stop() == 0, edge_process.log()[-3000:]


@pytest.fixture
def bus(amqp_url):
    listener = BusListener(amqp_url)
    yield listener
    listener.close()


def exchange(edge: str, torture: Torture, *, timeout: float = 1.5) -> list[sipmsg.SipMessage]:
    """Send the message from a trunk address; every reply until a final one (or `timeout` of silence)."""
    host, port = edge.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        sock.sendto(torture.datagram(f"127.0.0.1:{sock.getsockname()[1]}"), (host, int(port)))
        replies = []
        try:
            while True:
                reply = sipmsg.parse(sock.recv(65535))
                replies.append(reply)
                if reply.status >= 180:
                    return replies
        except TimeoutError:
            return replies


def call_id_of(torture: Torture) -> str:
    for line in torture.head:
        match = re.match(r"(?i)(call-id|i)\s*:\s*(\S+)", line)
        if match:
            return match.group(2)
    raise AssertionError("no Call-ID")


@pytest.mark.parametrize("torture", VALID, ids=[t.name for t in VALID])
def test_valid_tortuous_messages_are_understood(stack, bus, torture):
    edge, _, _ = stack
    replies = exchange(edge, torture)
    statuses = [r.status for r in replies]
    if torture.expect is None:
        assert statuses == [], (torture.section, torture.divergence, statuses)
        return
    if torture.expect != "ring":
        assert statuses and statuses[-1] == torture.expect, (torture.section, statuses)
        return
    assert 180 in statuses, (torture.section, statuses, [r.reason for r in replies])
    caller = bus.wait_for(call_id_of(torture), "call_ringing")["data"]["caller"]
    assert {key: caller.get(key, "") for key in torture.caller} == torture.caller, torture.section


@pytest.mark.parametrize("torture", INVALID, ids=[t.name for t in INVALID])
def test_invalid_messages_are_answered_as_the_rfc_says(stack, torture):
    edge, _, _ = stack
    replies = exchange(edge, torture)
    finals = [r for r in replies if r.status >= 200]
    allowed = torture.expect if isinstance(torture.expect, tuple) else (torture.expect,)
    got = finals[0].status if finals else None
    assert got in allowed, (torture.section, [r.status for r in replies], [r.reason for r in replies])
    if got == 420:
        assert finals[0].get("Unsupported"), "a 420 names what is unsupported"


def test_after_the_torture_both_processes_run_and_a_call_pops(stack, bus):
    edge, service, edge_process = stack
    assert service.process.alive() and edge_process.alive()
    plan = CallPlan(number="+1 614 555 0123", extension="2002", cancel_after=0.05)
    assert place_call(plan, edge=edge).returncode == 0
    assert bus.wait_for(plan.call_id + "-1", "call_ringing")["data"]["caller"]["number"] == "+16145550123"
