"""Mail in from hosted mailboxes over IMAP: each mailbox read from where it stopped, then watched with IDLE.

Resuming: the mailbox's UIDVALIDITY and the last UID taken are stored after each message is through the
intake, so a restart (ours or the server's) takes up at the next UID: nothing is skipped. A message taken
but not yet recorded when the reader stopped is read again, and the intake refuses it as a `duplicate` of
its own Message-ID: nothing is doubled. A new UIDVALIDITY (the server renumbered the mailbox) starts again
from the first message, on the same guarantee.

Never silence: a mailbox not read for `stale_after` is reported by the watchdog, as the gauge
`crs_channels_imap_stale` and a logged alert, until it is read again. The reader reconnects with backoff.
Plain Python: the IMAP client and the position store are ports (aioimaplib and SQL in the service).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailbox:
    """One mailbox to read: `imap://user:password@host:port/FOLDER` (`imaps://` for TLS on connect)."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise SystemExit(
                f"CRS_CHANNELS_IMAP_URLS: each must be imap[s]://user:password@host:port/FOLDER, not {parts.scheme}://{parts.hostname}"
            )
        tls = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if tls else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            tls=tls,
        )

    @property
    def name(self) -> str:
        """What logs, metrics and the stored position call it: no password."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class Position:
    uid_validity: int
    last_uid: int


class Client(Protocol):
    """An open, logged-in session on one folder."""

    uid_validity: int

    async def uids_after(self, uid: int) -> list[int]: ...
    async def fetch(self, uid: int) -> bytes | None: ...
    async def wait_for_news(self, timeout: float) -> None:
        """Return when the folder may hold new mail (IDLE said so, or `timeout` passed); raise when the
        connection is lost."""

    async def close(self) -> None: ...


class Positions(Protocol):
    async def position(self, mailbox: str) -> Position | None: ...
    async def advance(self, mailbox: str, position: Position, *, read_at: datetime) -> None: ...


class Leases(Protocol):
    """Which replica reads a mailbox: one holds its lease at a time; another takes it when that one is gone."""

    async def acquire(self, mailbox: str) -> bool:
        """True while this process holds (or now takes) the mailbox's lease."""

    async def release(self, mailbox: str) -> None: ...


class SoleReader:
    """Leases for a process that is the only reader (tests, a single replica)."""

    async def acquire(self, mailbox: str) -> bool:
        return True

    async def release(self, mailbox: str) -> None:
        pass


class Intake(Protocol):
    async def receive(self, raw: bytes, *, envelope_from: str = "", envelope_to: str = ""): ...


@dataclass
class Health:
    """When each mailbox was last read through (read_at), for the watchdog."""

    started: datetime
    read_at: dict[str, datetime]

    def unread_for(self, mailbox: str, now: datetime) -> timedelta:
        return now - self.read_at.get(mailbox, self.started)


class Reader:
    def __init__(
        self,
        mailbox: Mailbox,
        *,
        connect: Callable[[Mailbox], object],
        positions: Positions,
        intake: Intake,
        health: Health,
        on_outcome: Callable[[object], None] = lambda outcome: None,
        idle_timeout: float = 300.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        sleep=asyncio.sleep,
        leases: Leases | None = None,
        standby: float = 15.0,
    ):
        self.mailbox = mailbox
        self.leases = leases or SoleReader()
        # How often a replica without the lease asks for it again.
        self.standby = standby
        self.connect = connect
        self.positions = positions
        self.intake = intake
        self.health = health
        self.on_outcome = on_outcome
        self.idle_timeout = idle_timeout
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep

    async def run(self, stop: asyncio.Event) -> None:
        """Read, watch, and on any failure reconnect after a doubling pause, until `stop`; only while this
        process holds the mailbox's lease (another replica may)."""
        try:
            await self._read_while_leased(stop)
        finally:
            try:
                await self.leases.release(self.mailbox.name)
            except Exception as exc:
                log.warning("IMAP mailbox %s: lease not released (%s)", self.mailbox.name, exc)

    async def _leased(self) -> bool:
        try:
            return await self.leases.acquire(self.mailbox.name)
        except Exception as exc:
            log.warning("IMAP mailbox %s: cannot ask for its lease (%s)", self.mailbox.name, exc)
            return False

    async def _read_while_leased(self, stop: asyncio.Event) -> None:
        pause = self.backoff[0]
        while not stop.is_set():
            if not await self._leased():
                await _wait(stop, self.sleep(self.standby))
                continue
            try:
                client = await self.connect(self.mailbox)
            except Exception as exc:
                log.warning(
                    "IMAP mailbox %s: cannot connect (%s); again in %.0f s", self.mailbox.name, exc, pause
                )
            else:
                pause = self.backoff[0]
                try:
                    await self._session(client, stop)
                except Exception as exc:
                    log.warning("IMAP mailbox %s: session ended (%s); reconnecting", self.mailbox.name, exc)
                finally:
                    try:
                        await client.close()
                    except Exception:
                        pass
            if stop.is_set():
                return
            await _wait(stop, self.sleep(pause))
            pause = min(pause * 2, self.backoff[1])

    async def _session(self, client: Client, stop: asyncio.Event) -> None:
        while not stop.is_set() and await self._leased():
            await self.read_new(client)
            # Bounded here too: a client that never returns would be a reader silently stopped.
            await _wait(
                stop, asyncio.wait_for(client.wait_for_news(self.idle_timeout), self.idle_timeout + 60)
            )

    async def read_new(self, client: Client) -> int:
        """Take every message after the stored position through the intake, oldest first; how many."""
        name = self.mailbox.name
        stored = await self.positions.position(name)
        if stored is None or stored.uid_validity != client.uid_validity:
            if stored is not None:
                log.warning(
                    "IMAP mailbox %s: UIDVALIDITY changed (%s to %s); reading it again from the start,"
                    " mail already taken is refused as duplicate",
                    name,
                    stored.uid_validity,
                    client.uid_validity,
                )
            stored = Position(client.uid_validity, 0)
        taken = 0
        for uid in sorted(u for u in await client.uids_after(stored.last_uid) if u > stored.last_uid):
            raw = await client.fetch(uid)
            if raw is not None:
                self.on_outcome(await self.intake.receive(raw, envelope_to=name))
                taken += 1
            stored = Position(stored.uid_validity, uid)
            await self.positions.advance(name, stored, read_at=self.clock())
        now = self.clock()
        if taken == 0:
            await self.positions.advance(name, stored, read_at=now)
        self.health.read_at[name] = now
        return taken


async def _wait(stop: asyncio.Event, awaitable) -> None:
    """Await `awaitable`, or return early when `stop` is set."""
    work = asyncio.ensure_future(awaitable)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not work.done():
            work.cancel()
    if work.done() and not work.cancelled() and work.exception() is not None:
        raise work.exception()


def stale_mailboxes(health: Health, names: list[str], *, now: datetime, stale_after: timedelta) -> list[str]:
    return [name for name in names if health.unread_for(name, now) > stale_after]


async def watch(
    health: Health,
    names: list[str],
    *,
    stale_after: timedelta,
    report: Callable[[str, float, bool], None],
    stop: asyncio.Event,
    every: float = 10.0,
    clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    read_times=None,
) -> None:
    """Every `every` seconds, report each mailbox's time since it was read, and alert on stale ones.

    `read_times` (a coroutine function: mailbox → when it was last read through, by whichever replica)
    refreshes what this process knows, so a replica standing by reports the mailbox as the reader does.
    """
    while not stop.is_set():
        if read_times is not None:
            try:
                health.read_at.update(await read_times())
            except Exception as exc:
                log.warning("IMAP watchdog: read times not refreshed (%s)", exc)
        now = clock()
        stale = set(stale_mailboxes(health, names, now=now, stale_after=stale_after))
        for name in names:
            unread = health.unread_for(name, now).total_seconds()
            report(name, unread, name in stale)
            if name in stale:
                log.error(
                    "ALERT: IMAP mailbox %s has not been read for %.0f s (limit %.0f s)",
                    name,
                    unread,
                    stale_after.total_seconds(),
                    extra={"fields": {"mailbox": name, "alert": "imap_mailbox_stale"}},
                )
        await _wait(stop, asyncio.sleep(every))
