"""Keeping the service registered with the SIP edge.

Replies are matched by Call-ID and CSeq as the receive thread hands them over, so a call arriving during a
refresh is never mistaken for the REGISTER's reply (pyVoIP's defect), and a failed refresh is retried
every second for as long as the service runs; nothing leaves the endpoint unregistered for good.
The edge challenges every REGISTER (401); the answer carries digest credentials for `username`, and a
challenge answered once is reused for refreshes until the edge calls its nonce stale.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.telephony import digest, signalling, sipmsg

log = logging.getLogger(__name__)


class Registration:
    """One binding of `username` at `edge` to `host:port`, refreshed at half its lifetime."""

    def __init__(
        self,
        *,
        edge: tuple[str, int],
        host: str,
        port: int,
        username: str,
        password: str,
        expires: int,
        send: Callable[[bytes, tuple[str, int]], None],
    ):
        self.edge, self.host, self.port, self.username, self.expires = edge, host, port, username, expires
        self.password = password
        self.send = send
        self._challenge: digest.Challenge | None = None
        self._nonce_count = 0
        self._response: sipmsg.SipMessage | None = None
        self.registered = threading.Event()
        self._call_id = f"{signalling.new_tag()}@{host}"
        self._tag = signalling.new_tag()
        self._cseq = 0
        self._reply = threading.Event()
        self._status = 0

    def on_response(self, response: sipmsg.SipMessage) -> bool:
        """Take a response if it answers our REGISTER; True when it did."""
        if response.call_id != self._call_id or response.cseq[0] != self._cseq:
            return False
        if response.status >= 200:
            self._status = response.status
            self._response = response
            self._reply.set()
        return True

    def register(self, *, expires: int) -> int:
        """REGISTER, answering the edge's digest challenge; the final status, 0 on timeout."""
        status = self._send_register(expires=expires)
        if status == 401:
            response = self._response
            try:
                self._challenge = digest.parse_challenge(response.get("WWW-Authenticate") if response else "")
            except digest.ChallengeError as exc:
                log.warning("SIP edge challenge unanswerable", extra={"fields": {"error": str(exc)}})
                return status
            self._nonce_count = 0
            status = self._send_register(expires=expires)
            if status == 401:
                log.error("SIP edge refused telephony's credentials (check CRS_SIP_PASSWORD at both ends)")
        return status

    def _credentials(self) -> str:
        if self._challenge is None:
            return ""
        self._nonce_count += 1
        return digest.authorization(
            self._challenge,
            method="REGISTER",
            uri=f"sip:{self.edge[0]}:{self.edge[1]}",
            username=self.username,
            password=self.password,
            nonce_count=self._nonce_count,
        )

    def _send_register(self, *, expires: int) -> int:
        """Send one REGISTER (retransmitted twice) and wait for its final status; 0 on timeout."""
        authorization = self._credentials()
        for attempt in range(3):
            self._cseq += 1
            self._reply.clear()
            request = signalling.register_request(
                edge=self.edge,
                host=self.host,
                port=self.port,
                username=self.username,
                call_id=self._call_id,
                cseq=self._cseq,
                tag=self._tag,
                expires=expires,
                authorization=authorization,
            )
            self.send(request, self.edge)
            if self._reply.wait(timeout=0.5 * (attempt + 1)):
                return self._status
        return 0

    def run(self, *, keep_going: Callable[[], bool], sleep: Callable[[float], bool]) -> None:
        """Register and refresh until `keep_going()` is false or `sleep` reports a stop."""
        while keep_going():
            status = self.register(expires=self.expires)
            if status == 200:
                if not self.registered.is_set():
                    log.info("registered with the SIP edge", extra={"fields": {"edge": str(self.edge)}})
                self.registered.set()
                wait = max(1.0, self.expires / 2)
            else:
                if self.registered.is_set() or status:
                    log.warning("SIP edge registration failed", extra={"fields": {"status": status}})
                self.registered.clear()
                wait = 1.0
            if sleep(wait):
                return

    def deregister(self) -> None:
        if self.registered.is_set():
            self.register(expires=0)
            self.registered.clear()
