"""The SIP parser accepts what real peers send and names what it rejects."""

from __future__ import annotations

import pytest

from services.telephony import sipmsg

BASE = (
    "INVITE sip:1001@crs.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n"
    "From: <sip:6145550123@pbx>;tag=a\r\n"
    "To: <sip:1001@crs.example>\r\n"
    "Call-ID: abc@10.0.0.1\r\n"
    "CSeq: 7 INVITE\r\n"
)


def test_compact_and_lower_case_names_mean_the_same_headers():
    message = sipmsg.parse(
        b"INVITE sip:1001@h SIP/2.0\r\nv: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nf: <sip:1@h>;tag=1\r\n"
        b"t: <sip:1001@h>\r\ni: cid\r\ncseq: 1 INVITE\r\nl: 0\r\n\r\n"
    )
    assert message.call_id == "cid"
    assert message.tag("From") == "1"
    assert message.get_all("Via") == ["SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx"]


def test_empty_headers_are_dropped_and_remembered():
    message = sipmsg.parse((BASE + "Supported:\r\nAllow: INVITE, BYE\r\nContent-Length: 0\r\n\r\n").encode())
    assert message.empty_headers == ["Supported"]
    assert message.get("Supported") == ""


def test_folded_lines_bare_lf_and_non_utf8_bytes():
    raw = (BASE + "Subject: one\r\n two\r\nContent-Length: 0\r\n\r\n").replace("\r\n", "\n").encode()
    raw = raw.replace(b"two", b"tw\xff")
    message = sipmsg.parse(raw)
    assert message.get("Subject") == "one tw\xff"


def test_body_is_cut_at_content_length():
    message = sipmsg.parse((BASE + "Content-Length: 3\r\n\r\nv=0trailing").encode())
    assert message.body == b"v=0"


def test_via_lists_split_on_commas():
    message = sipmsg.parse(
        (BASE + "Via: SIP/2.0/UDP a:1;branch=z9hG4bK2, SIP/2.0/UDP b:2;branch=z9hG4bK3\r\n\r\n").encode()
    )
    assert len(message.get_all("Via")) == 3


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"\r\n\r\n", "empty datagram"),
        (b"\x00\x01\x02garbage", "not a SIP start line"),
        (b"INVITE sip:1@h SIP/3.0\r\n\r\n", "unsupported SIP version"),
        (b"INVITE nowhere SIP/2.0\r\n\r\n", "bad Request-URI"),
        ((BASE + "Content-Length: 50\r\n\r\nv=0").encode(), "body shorter than Content-Length"),
        ((BASE + "Content-Length: x\r\n\r\n").encode(), "Content-Length is not a number"),
        (BASE.replace("Call-ID: abc@10.0.0.1\r\n", "").encode() + b"\r\n", "missing Call-ID"),
        (BASE.replace("7 INVITE", "7 BYE").encode() + b"\r\n", "CSeq does not match"),
        ((BASE + "this is not a header\r\n\r\n").encode(), "malformed header line"),
        (BASE.encode(), "no blank line"),
        (b"SIP/2.0 2000 OK\r\n\r\n", "bad status code"),
    ],
)
def test_rejections_say_why(datagram, reason):
    with pytest.raises(sipmsg.SipParseError) as error:
        sipmsg.parse(datagram)
    assert reason in error.value.reason


def test_a_rejected_request_keeps_enough_to_answer_400():
    with pytest.raises(sipmsg.SipParseError) as error:
        sipmsg.parse((BASE + "Content-Length: 99\r\n\r\n").encode())
    reply = sipmsg.response(error.value.partial, 400, "Bad Request", to_tag="t1")
    assert reply.startswith(
        b"SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n"
    )
    assert b"To: <sip:1001@crs.example>;tag=t1\r\n" in reply
    assert b"CSeq: 7 INVITE\r\n" in reply


def test_response_parsing():
    message = sipmsg.parse(b"SIP/2.0 180 Ringing\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
    assert (message.status, message.reason, message.is_request) == (180, "Ringing", False)


@pytest.mark.parametrize(
    ("via", "address"),
    [
        ("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1", ("10.0.0.1", 5070)),
        ("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", ("10.0.0.1", 5060)),
        ("SIP/2.0/UDP 10.0.0.1:5070;branch=z;received=1.2.3.4;rport=4000", ("1.2.3.4", 4000)),
        ("nonsense", None),
    ],
)
def test_via_address(via, address):
    assert sipmsg.via_address(via) == address
