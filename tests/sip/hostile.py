"""A corpus of hostile SIP and RTP, generated from a seed: what a broken PBX, a fuzzer or an attacker sends.

SIP: the garbage and RFC 4475 seeds, then every one of a valid INVITE's truncations at header
boundaries and inside them, byte-flipped copies, oversized ones (one huge header, thousands of
headers, a URI of 60 kB), duplicated and contradictory headers, and in-dialog requests sent before,
or without, the INVITE they belong to (reordered), each of them several times (retransmitted). None of
it is a valid offer, so none of it rings: a call that is placed meanwhile is the only thing that should
reach an agent.

RTP: bad versions, headers shorter than 12 bytes, CSRC counts and extensions that run past the end,
bad padding, a stranger's SSRC, sequence and timestamp jumps of half the number space, unknown payload
types, and packets of the largest UDP size, aimed at the ports where calls' media arrives.
"""

from __future__ import annotations

import random
import struct

from tests.sip import garbage, torture

INVITE = (
    "INVITE sip:1001@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{tag}\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:+16145550199@127.0.0.1>;tag={tag}\r\n"
    "To: <sip:1001@127.0.0.1>\r\n"
    "Call-ID: hostile-{tag}\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:hostile@127.0.0.1:9>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: {length}\r\n\r\n"
)
# An offer of a codec nobody takes: complete messages are refused (488) rather than ringing.
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"


def _invite(tag: str, *, body: str = SDP, extra: str = "") -> bytes:
    head = INVITE.format(tag=tag, length=len(body.encode()))
    if extra:
        head = head.replace("Content-Type:", extra + "\r\nContent-Type:", 1)
    return (head + body).encode()


def _in_dialog(method: str, tag: str) -> bytes:
    return (
        f"{method} sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{tag}{method}\r\n"
        f"From: <sip:+16145550199@127.0.0.1>;tag={tag}\r\nTo: <sip:1001@127.0.0.1>;tag=x{tag}\r\n"
        f"Call-ID: hostile-{tag}\r\nCSeq: 2 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def truncations(rng: random.Random) -> list[tuple[str, bytes]]:
    whole = _invite("trunc")
    cuts = {whole.find(b"\r\n", i) for i in range(0, len(whole), 40)} | {
        rng.randrange(len(whole)) for _ in range(12)
    }
    return [
        (f"INVITE cut at byte {cut}", whole[:cut]) for cut in sorted(c for c in cuts if 0 < c < len(whole))
    ]


def flipped(rng: random.Random, count: int = 24) -> list[tuple[str, bytes]]:
    found = []
    for i in range(count):
        message = bytearray(_invite(f"flip{i}"))
        for _ in range(rng.randrange(1, 8)):
            message[rng.randrange(len(message))] = rng.randrange(256)
        found.append((f"INVITE with flipped bytes #{i}", bytes(message)))
    return found


def oversized() -> list[tuple[str, bytes]]:
    return [
        ("one 60 kB header", _invite("bighdr", extra="X-Junk: " + "j" * 60000)),
        ("3000 Via headers", _invite("vias", extra="\r\n".join(f"Via: SIP/2.0/UDP 10.0.0.{i % 250}:9;branch=z9hG4bK{i}" for i in range(3000)))),
        ("60 kB Request-URI", _invite("biguri").replace(b"sip:1001@127.0.0.1 SIP", b"sip:" + b"9" * 60000 + b"@127.0.0.1 SIP", 1)),
        ("60 kB Call-ID", _invite("bigcid").replace(b"Call-ID: hostile-bigcid", b"Call-ID: " + b"c" * 60000)),
        ("a body past the UDP maximum claimed", _invite("bigbody").replace(b"Content-Length: ", b"Content-Length: 9999999", 1)),
    ]  # fmt: skip


def contradictory() -> list[tuple[str, bytes]]:
    return [
        ("two Content-Lengths", _invite("twocl", extra="Content-Length: 3")),
        ("two Call-IDs", _invite("twocid", extra="Call-ID: other")),
        ("two CSeqs", _invite("twocseq", extra="CSeq: 7 BYE")),
        ("NUL inside a header", _invite("nul").replace(b"Max-Forwards: 70", b"Max-Forwards: 7\x000")),
        ("bare LF line ends", _invite("lf").replace(b"\r\n", b"\n")),
        ("bare CR line ends", _invite("cr").replace(b"\r\n", b"\r")),
        ("Max-Forwards 0", _invite("mf0").replace(b"Max-Forwards: 70", b"Max-Forwards: 0")),
        ("Max-Forwards negative", _invite("mfneg").replace(b"Max-Forwards: 70", b"Max-Forwards: -5")),
        ("CSeq past 2**32", _invite("cseqbig").replace(b"CSeq: 1 INVITE", b"CSeq: 99999999999999999999 INVITE")),
        ("SDP with 500 media lines", _invite("media", body=SDP + "m=audio 9 RTP/AVP 96\r\n" * 500)),
    ]  # fmt: skip


def reordered() -> list[tuple[str, bytes]]:
    """In-dialog requests and responses for calls that never were, or before their INVITE."""
    found = []
    for method in ("ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO"):
        found.append((f"{method} before its INVITE", _in_dialog(method, "early")))
    found.append(("the INVITE after its BYE", _invite("early")))
    found.append(
        (
            "200 OK for nothing",
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nCall-ID: hostile-resp\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        )
    )
    found.append(
        ("180 for nothing", b"SIP/2.0 180 Ringing\r\nCall-ID: hostile-resp\r\nCSeq: 1 INVITE\r\n\r\n")
    )
    return found  # fmt: skip


def sip_corpus(seed: int = 19) -> list[tuple[str, bytes]]:
    """Every hostile SIP datagram, by name; the retransmitted ones appear three times in a row."""
    rng = random.Random(seed)
    seeds = [(name, datagram) for name, datagram, _ in garbage.corpus()]
    seeds += [(t.name, t.datagram("127.0.0.1:9")) for t in torture.INVALID]
    found = seeds + truncations(rng) + flipped(rng) + oversized() + contradictory() + reordered()
    retransmitted = [(f"{name} (retransmitted)", datagram) for name, datagram in reordered()[:3]]
    return found + retransmitted * 3


def rtp(*, version: int = 2, pt: int = 8, seq: int = 1, ts: int = 160, ssrc: int = 0x5EED, first: int | None = None, payload: bytes = b"\xd5" * 160) -> bytes:  # fmt: skip
    byte0 = (version << 6) if first is None else first
    return struct.pack("!BBHII", byte0, pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def rtp_corpus(seed: int = 19) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [
        ("empty", b""),
        *[(f"{n}-byte header", rtp()[:n]) for n in (1, 2, 5, 11)],
        *[(f"version {v}", rtp(version=v)) for v in (0, 1, 3)],
        ("15 CSRCs claimed, none present", rtp(first=0x8F, payload=b"")),
        ("extension longer than the packet", rtp(first=0x90, payload=b"\xbe\xde\xff\xff")),
        ("extension header cut short", rtp(first=0x90, payload=b"\xbe")),
        ("padding of zero", rtp(first=0xA0, payload=b"\xd5" * 10 + b"\x00")),
        ("padding longer than the payload", rtp(first=0xA0, payload=b"\xd5\xff")),
        ("a stranger's SSRC", rtp(ssrc=rng.getrandbits(32))),
        ("sequence jump of 32768", rtp(seq=32769)),
        ("timestamp jump of 2**31", rtp(ts=2**31)),
        ("timestamp going back", rtp(ts=2**32 - 160 * 50)),
        ("unknown payload type", rtp(pt=77)),
        ("marker bit with telephone-event of 1 byte", rtp(pt=0x80 | 101, payload=b"\x05")),
        ("no payload", rtp(payload=b"")),
        ("largest UDP payload", rtp(payload=bytes(rng.randrange(256) for _ in range(65000)))),
        ("random bytes", bytes(rng.randrange(256) for _ in range(172))),
    ]


class Sprayer:
    """Sends the corpus over and over from a thread: SIP to each of `sip_targets`, RTP to every port of
    `rtp_ports` (calls' media lands somewhere in that range), until `stop()`. Counts what it sent."""

    def __init__(self, sip_targets: list[tuple[str, int]], rtp_ports: range, *, pause: float = 0.2):
        import threading

        self.sip_targets, self.rtp_ports, self.pause = sip_targets, rtp_ports, pause
        self.sip_sent = self.rtp_sent = self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sprayer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import socket

        sip, media = sip_corpus(), rtp_corpus()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            while not self._stop.is_set():
                for i, (_, datagram) in enumerate(sip):
                    for target in self.sip_targets:
                        self.sip_sent += _send(sock, datagram, target)
                    if i % 20 == 19 and self._stop.wait(self.pause):
                        return
                for port in self.rtp_ports:
                    _, packet = media[(port + self.rounds) % len(media)]
                    self.rtp_sent += _send(sock, packet, ("127.0.0.1", port))
                self.rounds += 1
                # Replies (to the corpus's own Via, or to this socket) are read and dropped.
                try:
                    while sock.recv(65535):
                        pass
                except OSError:
                    pass


def _send(sock, datagram: bytes, target: tuple[str, int]) -> int:
    try:
        sock.sendto(datagram, target)
        return 1
    except OSError:  # too big for this path, or the buffer is full: it counts as not sent
        return 0
