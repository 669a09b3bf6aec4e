"""A letter going by email: once the worker has printed it, channels is asked to send it (SendLetter).

The worker (nameko, eventlet) speaks no gRPC (docs/decisions.md), so this step runs in the API process:
every few seconds it claims the printed letters that are due, asks channels to send each, and moves the
request to delivered once channels has taken it (queued in its outbox). Channels keeps one message per
fulfillment id, so a call repeated after a lost answer or a crash before the move sends nothing twice.
When channels does not answer, the letter is tried again later with a growing delay, and after
MAX_ATTEMPTS the request fails with the error; a letter channels refuses for good fails at once.

Plain Python over an abstract store and channel: unit-tested with fakes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
ACTOR = "fulfillment-mailer"


@dataclass(frozen=True)
class DueLetter:
    """A printed letter to email, as the request holds it."""

    fulfillment_id: str
    case_id: str
    email_address: str
    consumer_name: str
    language: str
    template: str
    pdf: bytes
    attempts: int = 0


class ChannelsDown(RuntimeError):
    """Channels did not answer in time, or is not there: try again later."""


class Refused(RuntimeError):
    """Channels refused the letter for good (a bad address, say): the request fails."""


class LetterChannel(Protocol):
    async def send(self, letter: DueLetter) -> str:
        """Hand the letter to channels; returns the message's Message-ID."""


class MailStore(Protocol):
    async def due(self, *, limit: int) -> list[DueLetter]:
        """Claim printed email letters whose time has come (another process skips those claimed)."""

    async def emailed(self, fulfillment_id: str, *, note: str, actor: str) -> bool:
        """Move the request to delivered, if it still waits to be emailed; True when this call moved it."""

    async def retry(self, fulfillment_id: str, *, at: datetime) -> None: ...

    async def give_up(self, fulfillment_id: str, *, note: str, actor: str) -> None: ...


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """After `attempts` failures: base, 2 x base, 4 x base ... at most 30 minutes."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 1800.0))


class Mailer:
    def __init__(
        self,
        *,
        store: MailStore,
        channel: LetterChannel,
        retry_seconds: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ):
        self.store = store
        self.channel = channel
        self.retry_seconds = retry_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    async def send_due(self, limit: int = 20) -> int:
        """Try every letter that is due; returns how many channels took."""
        taken = 0
        for letter in await self.store.due(limit=limit):
            if await self._send(letter):
                taken += 1
        return taken

    async def _send(self, letter: DueLetter) -> bool:
        if not letter.email_address:
            await self._give_up(letter, "the consumer's email address is no longer held: post it instead")
            return False
        try:
            message_id = await self.channel.send(letter)
        except Refused as exc:
            await self._give_up(letter, f"channels refused the letter: {exc}")
            return False
        except ChannelsDown as exc:
            attempts = letter.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(letter, f"gave up after {attempts} attempts: channels {exc}")
                return False
            log.warning("letter %s not emailed yet (attempt %d): %s", letter.fulfillment_id, attempts, exc)
            await self.store.retry(
                letter.fulfillment_id, at=self.clock() + retry_delay(attempts, self.retry_seconds)
            )
            return False
        note = f"letter emailed to {letter.email_address} (message {message_id})"
        await self.store.emailed(letter.fulfillment_id, note=note, actor=ACTOR)
        return True

    async def _give_up(self, letter: DueLetter, note: str) -> None:
        log.error("letter %s not emailed: %s", letter.fulfillment_id, note)
        await self.store.give_up(letter.fulfillment_id, note=note[:500], actor=ACTOR)


async def run(mailer: Mailer, interval: float, stop: asyncio.Event) -> None:
    """Send what is due every `interval` seconds until `stop`; an error is logged and the loop goes on."""
    while not stop.is_set():
        try:
            await mailer.send_due()
        except Exception:
            log.exception("the letter mailer's round failed; the next one retries")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
