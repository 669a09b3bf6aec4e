"""Mail in and out over SMTP: the SMTP/LMTP ingress an MTA delivers to, and the relay replies leave by.

The ingress answers 250 only once the raw message is stored; when channels cannot store or thread it
(its database or casework away) it answers 451, and the MTA keeps the message and tries again.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from urllib.parse import urlsplit

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from services.channels import mail, metrics
from services.channels.intake import Intake
from services.channels.outbound import PermanentFailure, Queued
from services.runtime.settings import split_hostport

log = logging.getLogger(__name__)


class IngressHandler:
    def __init__(self, intake: Intake):
        self.intake = intake

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            outcome = await self.intake.receive(
                raw, envelope_from=envelope.mail_from or "", envelope_to=",".join(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("inbound mail could not be stored or threaded; the sender's MTA will retry")
            metrics.INBOUND.labels("deferred").inc()
            return "451 4.3.0 Try again later"
        metrics.inbound(outcome)
        return "250 2.0.0 OK"


async def serve_ingress(intake: Intake, bind: str, *, lmtp: bool = False) -> asyncio.Server:
    """Listen on `bind` (host:port; port 0 picks one) in this process's event loop."""
    host, port = split_hostport(bind)
    handler = IngressHandler(intake)
    protocol = LMTP if lmtp else SMTP

    def factory():
        return protocol(
            handler,
            data_size_limit=mail.MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            hostname="crs-channels",
            timeout=60,
        )

    server = await asyncio.get_running_loop().create_server(factory, host=host, port=port)
    log.info("%s ingress listening on %s", "LMTP" if lmtp else "SMTP", server.sockets[0].getsockname())
    return server


class SmtpRelay:
    """Sends through CRS_SMTP_URL: smtp://[user:password@]host:port (smtps:// for TLS on connect)."""

    def __init__(self, url: str, *, timeout: float = 20.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SystemExit(f"CRS_SMTP_URL must be smtp://host:port or smtps://host:port, not {url!r}")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user, self.password = parts.username, parts.password
        self.timeout = timeout

    async def send(self, mime: bytes, *, sender: str, recipients: list[str]) -> None:
        await asyncio.to_thread(self._send, mime, sender, recipients)

    async def send_batch(self, items: list[Queued]) -> list[Exception | None]:
        return await asyncio.to_thread(self._send_batch, items)

    def _send(self, mime: bytes, sender: str, recipients: list[str]) -> None:
        try:
            with self._connect() as client:
                client.sendmail(sender, recipients, mime)
        except smtplib.SMTPException as exc:
            raise _classified(exc) from None

    def _send_batch(self, items: list[Queued]) -> list[Exception | None]:
        """One connection for the batch; a refused message is that message's error, a lost connection is
        the error of every message not yet sent (they stay queued and are tried again)."""
        errors: list[Exception | None] = []
        try:
            with self._connect() as client:
                for item in items:
                    try:
                        client.sendmail(item.from_address, [item.to_address], item.mime)
                        errors.append(None)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                        errors.append(_classified(exc))
                        client.rset()
        except (OSError, smtplib.SMTPException) as exc:
            errors += [exc] * (len(items) - len(errors))
        return errors

    def _connect(self) -> smtplib.SMTP:
        kind = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        client = kind(self.host, self.port, timeout=self.timeout)
        try:
            if self.user:
                client.login(self.user, self.password or "")
        except BaseException:
            client.close()
            raise
        return client


def _classified(exc: smtplib.SMTPException) -> Exception:
    """PermanentFailure for a refusal for good (5xx), else the error itself, to retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            return PermanentFailure(f"recipients refused: {exc.recipients}")
        return exc
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}")
    return exc
