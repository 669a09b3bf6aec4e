"""A small SIP user agent for tests that sipp cannot play: any source address, digest answers, raw
requests; plain UDP sockets and the service's own parser to read replies."""

from __future__ import annotations

import socket
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
