"""The hostile SIP and RTP corpus (tests/sip/hostile.py), sent without pause while calls are placed.

The SIP goes to the edge, the only address telephony takes SIP from in production; the RTP goes to
every port of telephony's media range, and, from a caller's own media socket, into a recorded call.
Calls through the edge are answered, recorded and end as their callers hang up, during the spray and
after it; both processes stay up, nothing is left held, and what was refused is counted and logged.
"""

from __future__ import annotations

import threading
import wave

import pytest

from services.cli.call import CallPlan, place_call
from tests.integration.telephony.sipclient import SipClient, answered_call, rtp, tone
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.sip.hostile import Sprayer, rtp_corpus
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip

CALLS = 16


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url):
    tmp = tmp_path_factory.mktemp("hostile")
    edge_process, edge = start_edge(tmp)
    service = start_telephony(tmp, amqp_url=amqp_url, edge=edge)
    yield edge_process, edge, service
    assert service.process.stop() == 0, service.process.log()[-3000:]
    assert edge_process.stop() == 0, edge_process.log()[-3000:]


@pytest.fixture
def edge(stack):
    return stack[1]


@pytest.fixture
def telephony(stack):
    return stack[2]


def test_calls_are_answered_and_end_while_hostile_sip_and_rtp_arrive(stack, telephony, edge, bus):
    host, port = edge.split(":")
    media = range(int(telephony.env["CRS_RTP_PORT_LOW"]), int(telephony.env["CRS_RTP_PORT_HIGH"]) + 1)
    before = telephony.metrics()
    plan = CallPlan(number="+16145550123", extension="1001", seconds=2)
    sprayer = Sprayer([(host, int(port))], media).start()
    placed: list = []
    sipp = threading.Thread(target=lambda: placed.append(place_call(plan, edge=edge, calls=CALLS, rate=2)))
    try:
        wait_for(lambda: sprayer.rounds >= 1, timeout=30, what="a first round of the corpus")
        sipp.start()
        peer_sends_hostile_rtp(edge, bus, telephony)
        sipp.join()
        wait_for(lambda: sprayer.rounds >= 3, timeout=60, what="the corpus sent three times")
    finally:
        sprayer.stop()
    (result,) = placed
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for n in range(1, CALLS + 1):
        ended = bus.wait_for(f"{plan.call_id}-{n}", "call_ended")
        assert ended["data"]["reason"] == "END_REASON_CALLER_HUNG_UP"
    assert telephony.process.alive(), telephony.process.log()[-3000:]

    after = telephony.metrics()
    # The spray came from no call's media address: refused before any parsing, and counted.
    assert (
        after["crs_telephony_rtp_packets_foreign_total"] > before["crs_telephony_rtp_packets_foreign_total"]
    )
    assert (
        after["crs_telephony_rtp_packets_recorded_total"] > before["crs_telephony_rtp_packets_recorded_total"]
    )
    edge_log = stack[0].log()
    assert (
        "core parsing of SIP message failed" in edge_log and "in no dialog of this edge refused" in edge_log
    )
    assert stack[0].alive(), edge_log[-3000:]
    wait_for(lambda: settled(telephony), timeout=20, what="nothing but the corpus's ringing INVITE held")

    later = CallPlan(number="+16145550123", extension="1001", seconds=1)
    assert place_call(later, edge=edge).returncode == 0
    assert bus.wait_for(later.call_id + "-1", "call_ended")["data"]["reason"] == "END_REASON_CALLER_HUNG_UP"


def settled(telephony) -> bool:
    """Nothing held but the one INVITE of the corpus that rings (RFC 4475's escruri, which a careful
    proxy may take): its caller never answers, so it rings until the edge cancels it (tm's fr_inv_timer,
    120 s). No RTP port, media leg or recording is held for it, nor for anything else."""
    m = telephony.metrics()
    held = ("crs_telephony_media_calls", "crs_telephony_rtp_ports_in_use", "crs_telephony_recordings_open")
    return all(m[name] == 0 for name in held) and m["crs_telephony_calls_in_progress"] <= 1


def peer_sends_hostile_rtp(edge, bus, telephony) -> None:
    """A caller whose own media socket sends audio with the RTP corpus between its packets: the hostile
    packets are rejected, the audio is recorded, and the call ends with its recording."""
    host, port = edge.split(":")
    client = SipClient(f"{host}:{port}")
    before = telephony.metrics()["crs_telephony_rtp_packets_rejected_total"]
    try:
        call = answered_call(client, number="+16145550124", extension="1001")
        audio = tone(1.0)
        for index, (_, packet) in enumerate(rtp_corpus() * 2):
            call.rtp.sendto(packet, call.media)
            call.rtp.sendto(rtp(index, index * 160, audio[index * 160 : (index + 1) * 160]), call.media)
        assert call.hang_up().final.status == 200
        call.close()
    finally:
        client.close()
    ended = bus.wait_for(call.call_id, "call_ended")["data"]
    with wave.open(str(telephony.recordings / ended["recording_key"]), "rb") as recording:
        assert recording.getnframes() > 0
    # Each malformed packet is refused by the parser and counted (the version, short-header and padding
    # ones at least; a stranger's SSRC or a jump is audio that starts a new stretch, not a rejection).
    assert telephony.metrics()["crs_telephony_rtp_packets_rejected_total"] >= before + 10


def test_a_spray_alone_leaves_nothing_held(stack, telephony, edge):
    host, port = edge.split(":")
    media = range(int(telephony.env["CRS_RTP_PORT_LOW"]), int(telephony.env["CRS_RTP_PORT_HIGH"]) + 1)
    sprayer = Sprayer([(host, int(port))], media, pause=0).start()
    try:
        wait_for(lambda: sprayer.rounds >= 5, timeout=60, what="the corpus sent five times")
    finally:
        sprayer.stop()
    assert telephony.process.alive(), telephony.process.log()[-3000:]
    assert stack[0].alive(), stack[0].log()[-3000:]
    wait_for(lambda: settled(telephony), timeout=20, what="nothing but the corpus's ringing INVITE held")
