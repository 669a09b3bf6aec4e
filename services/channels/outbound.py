"""An agent's reply: composed with threading headers, queued in the outbox, delivered with retries.

The reply is written to the outbox (channels' `message` table, delivery 'queued') in the same step that
records it; a sender loop hands queued messages to the SMTP relay and, when the relay is down or refuses
for now, tries again later with a growing delay. Nothing is lost while the mail server is away.
"""

from __future__ import annotations

import email.policy
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_REPLY_CHARS = 20000


class InvalidReply(ValueError):
    pass


class NoThread(LookupError):
    """The case has no email conversation to answer."""


@dataclass(frozen=True)
class Thread:
    """What a reply needs from the case's conversation: whom to write and what to answer."""

    case_id: str
    reference: int
    consumer_address: str
    subject: str
    last_message_id: str
    references: tuple[str, ...]
    language: str = ""


@dataclass(frozen=True)
class Reply:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    from_address: str
    to_address: str
    subject: str
    body: str
    mime: bytes


@dataclass(frozen=True)
class Queued:
    id: int
    case_id: str
    mime: bytes
    from_address: str
    to_address: str
    attempts: int
    subject: str = ""
    author: str = ""


class Relay(Protocol):
    async def send(self, mime: bytes, *, sender: str, recipients: list[str]) -> None:
        """Raises PermanentFailure when the relay refuses for good, any other error to retry."""


class BatchRelay(Relay, Protocol):
    async def send_batch(self, items: list[Queued]) -> list[Exception | None]:
        """Each item over one connection; per item None when accepted, else the error `send` would raise."""


class PermanentFailure(RuntimeError):
    pass


def reply_subject(subject: str, reference: int) -> str:
    """ "Re: <subject> [Case N]": the reference lets a reply thread even when a client drops headers."""
    base = subject.strip() or "Your enquiry"
    if not base.lower().startswith("re:"):
        base = f"Re: {base}"
    tag = f"[Case {reference}]"
    return base if tag.lower() in base.lower() else f"{base} {tag}"


def compose(
    thread: Thread, *, body: str, from_address: str, domain: str, subject: str = "", now: datetime
) -> Reply:
    text = body.strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise InvalidReply(f"the reply must be 1 to {MAX_REPLY_CHARS} characters")
    message_id = make_msgid(idstring=f"case{thread.reference}", domain=domain)
    references = tuple(dict.fromkeys((*thread.references, thread.last_message_id)))[-20:]
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = thread.consumer_address
    message["Subject"] = reply_subject(subject or thread.subject, thread.reference)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["In-Reply-To"] = thread.last_message_id
    message["References"] = " ".join(references)
    # Marks mail this centre sent, so that it is never taken for a consumer's when it comes back.
    message["X-CRS-Loop"] = domain
    message["X-CRS-Case"] = str(thread.reference)
    message.set_content(text)
    return Reply(
        message_id=message_id,
        in_reply_to=thread.last_message_id,
        references=references,
        from_address=from_address,
        to_address=thread.consumer_address,
        subject=str(message["Subject"]),
        body=text,
        # CRLF line ends, as SMTP carries them: a relay may refuse a multi-line body with bare LFs.
        mime=message.as_bytes(policy=email.policy.SMTP),
    )


def retry_delay(attempts: int) -> timedelta:
    """After `attempts` failures: 10 s, 20 s, 40 s ... at most 30 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 1800))


class OutboxStore(Protocol):
    async def due(self, *, now: datetime, limit: int) -> list[Queued]: ...
    async def sent(self, message_id: int, *, now: datetime) -> None: ...
    async def retry(self, message_id: int, *, error: str, at: datetime) -> None: ...
    async def failed(self, message_id: int, *, error: str) -> None: ...


class BatchOutboxStore(OutboxStore, Protocol):
    async def sent_all(self, ids: list[int], *, now: datetime) -> None: ...


class Sender:
    """Hands due messages to the relay; `on_sent` / `on_failed` record the outcome on the case."""

    def __init__(self, *, store: OutboxStore, relay: Relay, on_sent=None, on_failed=None, clock=None):
        self.store = store
        self.relay = relay
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.clock = clock or (lambda: datetime.now().astimezone())

    async def deliver_due(self, limit: int = 50) -> int:
        """Try every message that is due; returns how many the relay accepted."""
        accepted = 0
        for item in await self.store.due(now=self.clock(), limit=limit):
            if await self._deliver(item):
                accepted += 1
        return accepted

    async def deliver_batch(self, limit: int = 500) -> int:
        """Every due message over one relay connection, the accepted ones recorded in one statement:
        notices come by the thousand, and a connection and a statement per message would cap their rate.
        Needs a BatchRelay and a BatchOutboxStore; returns how many the relay accepted."""
        due = await self.store.due(now=self.clock(), limit=limit)
        if not due:
            return 0
        errors = await self.relay.send_batch(due)
        accepted = [item for item, error in zip(due, errors, strict=True) if error is None]
        for item, error in zip(due, errors, strict=True):
            if error is not None:
                await self._not_delivered(item, error)
        if accepted:
            await self.store.sent_all([item.id for item in accepted], now=self.clock())
        for item in accepted if self.on_sent is not None else ():
            await self.on_sent(item)
        return len(accepted)

    async def _deliver(self, item: Queued) -> bool:
        try:
            await self.relay.send(item.mime, sender=item.from_address, recipients=[item.to_address])
        except Exception as exc:
            await self._not_delivered(item, exc)
            return False
        await self.store.sent(item.id, now=self.clock())
        if self.on_sent is not None:
            await self.on_sent(item)
        return True

    async def _not_delivered(self, item: Queued, exc: Exception) -> None:
        if isinstance(exc, PermanentFailure):
            await self._give_up(item, f"refused: {exc}")
        else:  # the relay is down or said "later": keep it queued
            attempts = item.attempts + 1
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(item, f"gave up after {attempts} attempts: {error}")
                return
            log.warning("message %d not delivered yet (attempt %d): %s", item.id, attempts, error)
            await self.store.retry(item.id, error=error, at=self.clock() + retry_delay(attempts))

    async def _give_up(self, item: Queued, error: str) -> None:
        log.error("message %d could not be delivered: %s", item.id, error)
        await self.store.failed(item.id, error=error)
        if self.on_failed is not None:
            await self.on_failed(item, error)
