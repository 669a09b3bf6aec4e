"""A small SIP user agent for tests that sipp cannot play: any source address, digest answers, raw
requests; plain UDP sockets and the service's own parser to read replies."""

from __future__ import annotations

import math
import re
import socket
import struct
import time
import uuid
from dataclasses import dataclass, field

from services.telephony import digest, sipmsg

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
)


@dataclass
class Transaction:
    """What one request got back, in order."""

    replies: list[sipmsg.SipMessage] = field(default_factory=list)

    @property
    def statuses(self) -> list[int]:
        return [reply.status for reply in self.replies]

    @property
    def final(self) -> sipmsg.SipMessage | None:
        return next((r for r in self.replies if r.status >= 200), None)


class SipClient:
    """One UDP socket on `host` (any loopback address), talking to the edge at `edge`."""

    def __init__(self, edge: str, *, host: str = "127.0.0.1"):
        edge_host, edge_port = edge.split(":")
        self.edge = (edge_host, int(edge_port))
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.tag = uuid.uuid4().hex[:8]

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes, destination: tuple[str, int] | None = None) -> None:
        self.sock.sendto(data, destination or self.edge)

    def receive(self, *, call_id: str, until_final: bool = True, timeout: float = 2.0) -> Transaction:
        """Replies to `call_id` until a final one (or silence for `timeout`)."""
        self.sock.settimeout(timeout)
        got = Transaction()
        try:
            while True:
                message = sipmsg.parse(self.sock.recv(65535))
                if message.is_request or message.call_id != call_id:
                    continue
                got.replies.append(message)
                if until_final and message.status >= 200:
                    return got
        except TimeoutError:
            return got

    def request(
        self,
        method: str,
        uri: str,
        *,
        call_id: str,
        cseq: int = 1,
        from_uri: str,
        to_uri: str,
        to_tag: str = "",
        headers: list[str] = (),
        body: str = "",
        branch: str = "",
    ) -> bytes:
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch or 'z9hG4bK' + uuid.uuid4().hex[:16]};rport",
            "Max-Forwards: 70",
            f"From: <{from_uri}>;tag={self.tag}",
            f"To: <{to_uri}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:caller@{self.host}:{self.port}>",
            *headers,
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def register(self, *, user: str, password: str | None, call_id: str | None = None) -> Transaction:
        """REGISTER `user` from this socket, answering a challenge with `password` (None: no answer)."""
        call_id = call_id or uuid.uuid4().hex
        aor = f"sip:{user}@{self.edge[0]}"
        uri = f"sip:{self.edge[0]}:{self.edge[1]}"
        headers = ["Expires: 60"]
        self.send(self.request("REGISTER", uri, call_id=call_id, from_uri=aor, to_uri=aor, headers=headers))
        first = self.receive(call_id=call_id)
        if password is None or first.final is None or first.final.status != 401:
            return first
        challenge = digest.parse_challenge(first.final.get("WWW-Authenticate"))
        credentials = digest.authorization(
            challenge, method="REGISTER", uri=uri, username=user, password=password
        )
        self.send(
            self.request(
                "REGISTER", uri, call_id=call_id, cseq=2, from_uri=aor, to_uri=aor,
                headers=[*headers, f"Authorization: {credentials}"],
            )
        )  # fmt: skip
        second = self.receive(call_id=call_id)
        return Transaction(first.replies + second.replies)

    def invite(
        self,
        *,
        number: str,
        extension: str,
        headers: list[str] = (),
        credentials: tuple[str, str] | None = None,
        call_id: str | None = None,
        destination: tuple[str, int] | None = None,
    ) -> tuple[str, Transaction]:
        """INVITE `extension` as `number`; a 407 is answered with `credentials`. Returns the Call-ID and
        the replies up to 180 or a final answer. The call is left ringing (cancel it)."""
        call_id = call_id or f"crs-test-{uuid.uuid4().hex}"
        uri = f"sip:{extension}@{self.edge[0]}:{self.edge[1]}"
        from_uri = f"sip:{number}@{self.host}"
        body = OFFER.format(host=self.host, port=40000 + self.port % 20000)
        self._branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        self._cseq = 1
        self._invite = dict(
            uri=uri, call_id=call_id, from_uri=from_uri, to_uri=f"sip:{extension}@{self.edge[0]}"
        )
        self.send(
            self.request("INVITE", body=body, headers=list(headers), branch=self._branch, **self._invite),
            destination,
        )
        got = self._until_ringing(call_id)
        if credentials and got.final is not None and got.final.status == 407:
            self._ack(got.final)
            challenge = digest.parse_challenge(got.final.get("Proxy-Authenticate"))
            answer = digest.authorization(
                challenge, method="INVITE", uri=uri, username=credentials[0], password=credentials[1]
            )
            self._branch = "z9hG4bK" + uuid.uuid4().hex[:16]
            self._cseq = 2
            self.send(
                self.request(
                    "INVITE", body=body, cseq=2, branch=self._branch,
                    headers=[*headers, f"Proxy-Authorization: {answer}"], **self._invite,
                )
            )  # fmt: skip
            got = Transaction(got.replies + self._until_ringing(call_id).replies)
        return call_id, got

    def _until_ringing(self, call_id: str) -> Transaction:
        got = Transaction()
        self.sock.settimeout(2.0)
        try:
            while True:
                message = sipmsg.parse(self.sock.recv(65535))
                if message.is_request or message.call_id != call_id:
                    continue
                got.replies.append(message)
                if message.status == 180 or message.status >= 200:
                    return got
        except TimeoutError:
            return got

    def _ack(self, final: sipmsg.SipMessage) -> None:
        self.send(
            self.request(
                "ACK", self._invite["uri"], call_id=self._invite["call_id"], cseq=self._cseq,
                from_uri=self._invite["from_uri"], to_uri=self._invite["to_uri"], to_tag=final.tag("To"),
                branch=self._branch,
            )
        )  # fmt: skip

    def cancel(self) -> Transaction:
        """CANCEL the ringing INVITE; returns the replies (200 to the CANCEL, then 487 to the INVITE)."""
        self.send(self.request("CANCEL", cseq=self._cseq, branch=self._branch, **self._invite))
        return self.receive(call_id=self._invite["call_id"], until_final=False, timeout=1.0)


def _linear_to_ulaw(sample: int) -> int:
    """G.711 mu-law code of a 16-bit sample (the encoder the recorder's decoder inverts)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), clip) + bias
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone(seconds: float, *, hertz: float = 1000.0, amplitude: int = 8000) -> bytes:
    """`seconds` of a sine tone at 8 kHz, mu-law coded."""
    count = int(seconds * 8000)
    return bytes(
        _linear_to_ulaw(int(amplitude * math.sin(2 * math.pi * hertz * n / 8000))) for n in range(count)
    )


def rtp(sequence: int, timestamp: int, payload: bytes, *, ssrc: int = 0x5EED) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


@dataclass
class AnsweredCall:
    """A call the recording leg answered: where to send RTP, and how to hang up."""

    client: SipClient
    call_id: str
    media: tuple[str, int]
    rtp: socket.socket
    route: list[str]
    contact: str
    to_tag: str
    sent: int = 0  # RTP packets sent so far
    stopped: bool = False  # set to end `send_audio` early

    def send_audio(
        self,
        payload: bytes,
        *,
        timestamp_step: int = 160,
        ptime: float = 0.02,
        source: socket.socket | None = None,
    ) -> None:
        """Send `payload` in 20 ms packets on the media clock (each packet at its due time)."""
        sock = source or self.rtp
        start = time.monotonic()
        for index in range(len(payload) // 160):
            if self.stopped:
                return
            due = start + index * ptime
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the media clock, not waiting for a result
            sock.sendto(
                rtp(index, index * timestamp_step, payload[index * 160 : (index + 1) * 160]), self.media
            )
            self.sent = index + 1

    def hang_up(self) -> Transaction:
        self.client.send(
            self.client.request(
                "BYE", self.contact, call_id=self.call_id, cseq=3, from_uri=self.client._invite["from_uri"],
                to_uri=self.client._invite["to_uri"], to_tag=self.to_tag,
                headers=[f"Route: {r}" for r in self.route],
            )
        )  # fmt: skip
        return self.client.receive(call_id=self.call_id)

    def close(self) -> None:
        self.rtp.close()


def answered_call(client: SipClient, *, number: str, extension: str) -> AnsweredCall:
    """INVITE a recorded extension with an offer for our own RTP socket; wait for the 200 and ACK it."""
    media_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media_sock.bind((client.host, 0))
    call_id = f"crs-test-{uuid.uuid4().hex}"
    uri = f"sip:{extension}@{client.edge[0]}:{client.edge[1]}"
    body = OFFER.format(host=client.host, port=media_sock.getsockname()[1])
    client._branch = "z9hG4bK" + uuid.uuid4().hex[:16]
    client._cseq = 1
    client._invite = dict(uri=uri, call_id=call_id, from_uri=f"sip:{number}@{client.host}",
                          to_uri=f"sip:{extension}@{client.edge[0]}")  # fmt: skip
    client.send(client.request("INVITE", body=body, branch=client._branch, **client._invite))
    got = client.receive(call_id=call_id, timeout=10)
    final = got.final
    assert final is not None and final.status == 200, got.statuses
    sdp = final.body.decode()
    address = re.search(r"^c=IN IP4 (\S+)", sdp, re.M).group(1)
    port = int(re.search(r"^m=audio (\d+)", sdp, re.M).group(1))
    route = list(reversed(final.get_all("Record-Route")))
    contact = re.search(r"<([^>]+)>", final.get("Contact")).group(1)
    call = AnsweredCall(client, call_id, (address, port), media_sock, route, contact, final.tag("To"))
    client.send(
        client.request(
            "ACK", contact, call_id=call_id, from_uri=client._invite["from_uri"], to_uri=client._invite["to_uri"],
            to_tag=call.to_tag, headers=[f"Route: {r}" for r in route],
        )
    )  # fmt: skip
    return call
