"""Calls placed with sipp through the kamailio edge: events on the bus, recordings in the store."""

from __future__ import annotations

import re
import struct
import wave
from pathlib import Path

import pytest

from services.cli.call import SAMPLE_AUDIO, CallPlan, place_call
from services.telephony.recorder import decode_g711, parse_rtp
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip


def pcap_rtp_payloads(path: str) -> list[bytes]:
    """The RTP packets (UDP payloads) of a classic little-endian Ethernet/IPv4 pcap file."""
    data = Path(path).read_bytes()
    offset, packets = 24, []
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip = frame[14:]
        header = (ip[0] & 0x0F) * 4
        packets.append(ip[header + 8 :])
    return packets


def call(edge: str, **plan) -> CallPlan:
    plan = CallPlan(**plan)
    result = place_call(plan, edge=edge)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return plan


def test_answered_call_is_announced_recorded_and_ended(telephony, edge, bus):
    plan = call(edge, number="+1 614 555 0123", extension="1001", display="Jane Doe", seconds=2)
    call_id = plan.call_id + "-1"

    ringing_event = bus.wait_for(call_id, "call_ringing")
    properties = ringing_event["_properties"]
    assert ringing_event["_routing_key"] == "call_ringing"
    assert (properties.content_type, properties.delivery_mode, properties.type) == (
        "application/json",
        2,
        "call_ringing",
    )
    assert (properties.message_id, properties.correlation_id) == (ringing_event["id"], call_id)
    ringing = ringing_event["data"]
    # The From sipp sends names its own address and port, which the test does not choose.
    assert re.fullmatch(r"sip:\+16145550123@127\.0\.0\.1:\d+", ringing["caller"].pop("raw"))
    assert ringing["caller"] == {
        "number": "+16145550123",
        "display": "Jane Doe",
        "source": "from",
        "trust": "CALLER_TRUST_TRUNK",
    }
    assert ringing["extension"] == "1001"
    answered = bus.wait_for(call_id, "call_answered")["data"]
    assert answered["recording"] is True
    ended = bus.wait_for(call_id, "call_ended")["data"]
    assert ended["reason"] == "END_REASON_CALLER_HUNG_UP"
    assert 1.8 <= ended["duration_seconds"] <= 3.0
    assert [e["type"] for e in bus.of_call(call_id)] == ["call_ringing", "call_answered", "call_ended"]

    with wave.open(str(telephony.recordings / ended["recording_key"]), "rb") as recording:
        assert (recording.getnchannels(), recording.getsampwidth(), recording.getframerate()) == (1, 2, 8000)
        frames = recording.readframes(recording.getnframes())
    seconds = len(frames) / 16000
    assert 1.5 <= seconds <= 3.0
    # What sipp sent, decoded: the recording holds it sample for sample, from its first packet on.
    sent = b"".join(
        decode_g711(packet.payload, packet.payload_type)
        for packet in map(parse_rtp, pcap_rtp_payloads(SAMPLE_AUDIO))
        if packet.payload_type in (0, 8)
    )
    assert frames == sent[: len(frames)]
    wait_for(telephony.idle, timeout=10, what="no call, port or recording left")


def test_cancel_while_ringing_ends_the_call_as_cancelled(telephony, edge, bus):
    plan = call(edge, number="6145550123", extension="2001", cancel_after=0.2)
    call_id = plan.call_id + "-1"
    ended = bus.wait_for(call_id, "call_ended")["data"]
    assert ended["reason"] == "END_REASON_CANCELLED"
    assert ended.get("duration_seconds", 0) == 0
    assert [e["type"] for e in bus.of_call(call_id)] == ["call_ringing", "call_ended"]
    wait_for(telephony.idle, timeout=10, what="no stuck call")


def test_cancel_before_the_recording_leg_answers_frees_its_media(telephony, edge, bus):
    plan = call(edge, number="6145550123", extension="1002", cancel_after=0.05)
    call_id = plan.call_id + "-1"
    assert bus.wait_for(call_id, "call_ended")["data"]["reason"] == "END_REASON_CANCELLED"
    assert not bus.of_call(call_id, "call_answered")
    wait_for(telephony.idle, timeout=10, what="RTP ports and recording released")


CALLER_FORMS = [
    ("plain From", {"number": "+16145550123"}, ("+16145550123", False, "from")),
    ("display name", {"number": "6145550123", "display": 'Jane "JD" Doe'}, ("+16145550123", False, "from")),
    ("tel: From", {"number": "", "from_header": "<tel:+1-614-555-0123>"}, ("+16145550123", False, "from")),
    (
        "P-Asserted-Identity over From",
        {"number": "200", "headers": ['P-Asserted-Identity: "Jane" <sip:+16145550199@carrier.example>']},
        ("+16145550199", False, "p-asserted-identity"),
    ),
    (
        "Remote-Party-ID",
        {"number": "200", "headers": ["Remote-Party-ID: <sip:6145550177@pbx>;party=calling;privacy=off"]},
        ("+16145550177", False, "remote-party-id"),
    ),
    ("Privacy: id", {"number": "6145550123", "privacy": True}, ("", True, "p-asserted-identity")),
    (
        "anonymous From",
        {"number": "", "from_header": '"Anonymous" <sip:anonymous@anonymous.invalid>'},
        ("", True, "from"),
    ),
    ("no user part", {"number": "", "from_header": "<sip:pbx.example>"}, ("", True, "from")),
    (
        "user=phone",
        {"number": "", "from_header": "<sip:+1.614.555.0123@gw.example;user=phone>"},
        ("+16145550123", False, "from"),
    ),
]


@pytest.mark.parametrize(("what", "plan", "expected"), CALLER_FORMS, ids=[c[0] for c in CALLER_FORMS])
def test_caller_id_forms_through_the_edge(telephony, edge, bus, what, plan, expected):
    placed = call(edge, extension="2002", cancel_after=0.05, **plan)
    caller = bus.wait_for(placed.call_id + "-1", "call_ringing")["data"].get("caller", {})
    assert (caller.get("number", ""), caller.get("withheld", False), caller.get("source", "")) == expected


def test_two_hundred_calls_at_ten_per_second_lose_no_event(telephony, edge, bus):
    plan = CallPlan(number="+16145550123", extension="2003", cancel_after=0.3)
    result = place_call(plan, edge=edge, calls=200, rate=10)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def all_ended():
        ended = [
            e for e in bus.poll() if e["type"] == "call_ended" and e["correlationid"].startswith(plan.call_id)
        ]
        return len(ended) >= 200 and ended

    ended = wait_for(all_ended, timeout=30, what="200 call_ended events")
    ringing = [
        e for e in bus.received if e["type"] == "call_ringing" and e["correlationid"].startswith(plan.call_id)
    ]
    assert len({e["correlationid"] for e in ringing}) == len(ringing) == 200
    assert len({e["correlationid"] for e in ended}) == len(ended) == 200
    assert {e["data"]["reason"] for e in ended} == {"END_REASON_CANCELLED"}
    wait_for(telephony.idle, timeout=10, what="no stuck call")
