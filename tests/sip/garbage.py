"""Malformed and unusual datagrams a SIP port meets in the wild, with the reply each should get.

`None` means no reply is right (keep-alives, noise that is not SIP, responses to nothing); a status
means the sender could be identified and deserves to know what was wrong.
"""

from __future__ import annotations

import random


def _request(
    method: str, *, call_id: str, extra: str = "", body: str = "", via: bool = True, cseq: str = ""
) -> bytes:
    lines = [f"{method} sip:1001@127.0.0.1 SIP/2.0"]
    if via:
        lines.append(f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}")
    lines += [
        "From: <sip:6145550123@127.0.0.1>;tag=g1",
        "To: <sip:1001@127.0.0.1>",
        f"Call-ID: garbage-{call_id}",
        f"CSeq: {cseq or '1 ' + method}",
    ]
    if extra:
        lines.append(extra)
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP_WITHOUT_G711 = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
SDP_BROKEN = "v=0\r\nm=audio notaport RTP/AVP\r\nc=\r\n"


def corpus() -> list[tuple[str, bytes, int | None]]:
    noise = random.Random(20240501)
    return [
        ("empty datagram", b"", None),
        ("CRLF keep-alive", b"\r\n\r\n", None),
        ("NUL keep-alive", b"\x00\x00\x00\x00", None),
        ("one byte", b"\x80", None),
        ("random bytes", bytes(noise.randrange(256) for _ in range(512)), None),
        ("STUN binding request", bytes.fromhex("000100002112a442") + bytes(12), None),
        ("HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None),
        ("start line only", b"INVITE sip:1001@127.0.0.1 SIP/2.0", None),
        ("SIP version 3", _request("INVITE", call_id="v3").replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1), None),
        ("status code of four digits", b"SIP/2.0 2000 OK\r\nCall-ID: x\r\n\r\n", None),
        ("stray response", b"SIP/2.0 200 OK\r\nCall-ID: nobody\r\nCSeq: 1 INVITE\r\n\r\n", None),
        ("missing Call-ID", _request("INVITE", call_id="nocid").replace(b"Call-ID: garbage-nocid\r\n", b""), 400),
        ("missing Via", _request("INVITE", call_id="novia", via=False), None),
        ("CSeq method mismatch", _request("INVITE", call_id="cseq", cseq="1 BYE"), 400),
        ("CSeq not a number", _request("INVITE", call_id="cseqnan", cseq="x INVITE"), 400),
        ("Content-Length too long", _request("INVITE", call_id="cl").replace(b"Content-Length: 0", b"Content-Length: 900"), 400),
        ("Content-Length not a number", _request("INVITE", call_id="cln").replace(b"Content-Length: 0", b"Content-Length: -1"), 400),
        ("header line without a colon", _request("OPTIONS", call_id="nocolon", extra="NoColonHere"), 400),
        ("non-UTF-8 display name", _request("OPTIONS", call_id="latin1").replace(b"<sip:6145550123", b"\"J\xe9r\xf4me\" <sip:6145550123"), 200),
        ("over 8 KB", _request("OPTIONS", call_id="big", extra="X-Padding: " + "a" * 9000), 200),
        ("near the UDP maximum", _request("OPTIONS", call_id="huge", extra="X-Padding: " + "b" * 60000), 200),
        ("empty Supported header", _request("OPTIONS", call_id="emptysup", extra="Supported:"), 200),
        ("compact and lower-case names", _request("OPTIONS", call_id="compact").replace(b"From:", b"f:").replace(b"To:", b"t:").replace(b"Call-ID:", b"call-id:"), 200),
        ("INFO outside a dialog", _request("INFO", call_id="info"), 481),
        ("REGISTER sent to the service", _request("REGISTER", call_id="reg"), 405),
        ("SUBSCRIBE", _request("SUBSCRIBE", call_id="sub"), 405),
        ("BYE for no call", _request("BYE", call_id="bye"), 481),
        ("CANCEL for no call", _request("CANCEL", call_id="cancel"), 481),
        ("re-INVITE for no call", _request("INVITE", call_id="reinv").replace(b"To: <sip:1001@127.0.0.1>", b"To: <sip:1001@127.0.0.1>;tag=zz"), 481),
        ("INVITE without an offer", _request("INVITE", call_id="nosdp"), 488),
        ("INVITE offering only Opus", _request("INVITE", call_id="opus", extra="Content-Type: application/sdp", body=SDP_WITHOUT_G711), 488),
        ("INVITE with broken SDP", _request("INVITE", call_id="badsdp", extra="Content-Type: application/sdp", body=SDP_BROKEN), 488),
        ("ACK for nothing", _request("ACK", call_id="ack"), None),
    ]  # fmt: skip
