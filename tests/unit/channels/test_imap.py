"""The IMAP reader through fakes: where it resumes, what it does when the server or the intake fails, and
the unread-mailbox watchdog."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.channels.imap import Health, Mailbox, Position, Reader, stale_mailboxes, watch
from tests.support.wait import async_wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOX = Mailbox.from_url("imap://care%40brand.test:pw@imap.brand.test:143/INBOX")


class FakeServer:
    """A folder: uid → raw message, with its UIDVALIDITY."""

    def __init__(self, uid_validity: int = 7):
        self.uid_validity = uid_validity
        self.messages: dict[int, bytes] = {}
        self.fetched: list[int] = []

    def client(self):
        server = self

        class Client:
            uid_validity = server.uid_validity

            async def uids_after(self, uid):
                # As IMAP does: "UID n:*" names the last message even when it is below n.
                return sorted(u for u in server.messages if u > uid) or sorted(server.messages)[-1:]

            async def fetch(self, uid):
                server.fetched.append(uid)
                return server.messages.get(uid)

            async def wait_for_news(self, timeout):
                await asyncio.sleep(0)

            async def close(self):
                pass

        return Client()


class FakePositions:
    def __init__(self):
        self.stored: dict[str, Position] = {}

    async def position(self, mailbox):
        return self.stored.get(mailbox)

    async def advance(self, mailbox, position, *, read_at):
        self.stored[mailbox] = position


class FakeIntake:
    def __init__(self):
        self.received: list[bytes] = []
        self.failing = False

    async def receive(self, raw, *, envelope_from="", envelope_to=""):
        if self.failing:
            raise ConnectionError("casework away")
        self.received.append(raw)
        return "ok"


def reader(server, positions, intake, health=None, **kwargs):
    async def connect(mailbox):
        return server.client()

    return Reader(
        BOX,
        connect=connect,
        positions=positions,
        intake=intake,
        health=health or Health(started=T0, read_at={}),
        clock=lambda: T0,
        **kwargs,
    )


def test_a_mailbox_url_names_its_server_user_and_folder_and_its_name_has_no_password():
    assert (BOX.host, BOX.port, BOX.user, BOX.password, BOX.folder, BOX.tls) == (
        "imap.brand.test", 143, "care@brand.test", "pw", "INBOX", False
    )  # fmt: skip
    assert BOX.name == "care@brand.test@imap.brand.test:143/INBOX"
    assert Mailbox.from_url("imaps://u:p@h").port == 993
    with pytest.raises(SystemExit):
        Mailbox.from_url("http://u:p@h/INBOX")


async def test_each_message_goes_through_the_intake_once_and_a_new_reader_resumes_after_the_last():
    server, positions, intake = FakeServer(), FakePositions(), FakeIntake()
    server.messages = {1: b"one", 2: b"two"}
    assert await reader(server, positions, intake).read_new(server.client()) == 2
    server.messages[3] = b"three"
    # A reader started afresh (a restart of channels) reads from the stored position.
    assert await reader(server, positions, intake).read_new(server.client()) == 1
    assert await reader(server, positions, intake).read_new(server.client()) == 0
    assert intake.received == [b"one", b"two", b"three"]
    assert positions.stored[BOX.name] == Position(7, 3)


async def test_a_failing_intake_leaves_the_message_to_be_read_again():
    server, positions, intake = FakeServer(), FakePositions(), FakeIntake()
    server.messages = {1: b"one", 2: b"two"}
    intake.failing = True
    with pytest.raises(ConnectionError):
        await reader(server, positions, intake).read_new(server.client())
    intake.failing = False
    await reader(server, positions, intake).read_new(server.client())
    assert intake.received == [b"one", b"two"]


async def test_a_new_uidvalidity_reads_the_folder_again_from_the_start():
    server, positions, intake = FakeServer(uid_validity=7), FakePositions(), FakeIntake()
    server.messages = {1: b"one"}
    await reader(server, positions, intake).read_new(server.client())
    renumbered = FakeServer(uid_validity=8)
    renumbered.messages = {1: b"one", 2: b"two"}
    await reader(renumbered, positions, intake).read_new(renumbered.client())
    # The intake refuses "one" the second time as a duplicate Message-ID; the reader does not guess.
    assert intake.received == [b"one", b"one", b"two"]
    assert positions.stored[BOX.name] == Position(8, 2)


async def test_the_reader_reconnects_with_a_doubling_pause_and_resets_it_once_connected():
    server, positions, intake = FakeServer(), FakePositions(), FakeIntake()
    attempts: list[str] = []
    pauses: list[float] = []
    stop = asyncio.Event()

    async def connect(mailbox):
        attempts.append("try")
        if len(attempts) <= 3:
            raise OSError("connection refused")
        if len(attempts) == 4:
            return server.client()
        stop.set()
        raise OSError("refused again")

    async def sleep(seconds):
        pauses.append(seconds)

    health = Health(started=T0, read_at={})
    loop = Reader(
        BOX, connect=connect, positions=positions, intake=intake, health=health, backoff=(1.0, 4.0),
        clock=lambda: T0, sleep=sleep,
    )  # fmt: skip

    async def session_ends(client, stop_event):
        await loop.read_new(client)
        raise ConnectionError("server went away")

    loop._session = session_ends
    await asyncio.wait_for(loop.run(stop), 5)
    assert pauses == [1.0, 2.0, 4.0, 1.0]
    assert health.read_at[BOX.name] == T0


def test_a_mailbox_not_read_for_longer_than_the_limit_is_stale():
    health = Health(started=T0, read_at={"a": T0 + timedelta(minutes=10)})
    now = T0 + timedelta(minutes=16)
    assert stale_mailboxes(health, ["a", "b"], now=now, stale_after=timedelta(minutes=15)) == ["b"]
    assert stale_mailboxes(health, ["a", "b"], now=now, stale_after=timedelta(minutes=20)) == []


async def test_the_watchdog_reports_every_mailbox_and_alerts_on_a_stale_one(caplog):
    health = Health(started=T0, read_at={"fresh": T0 + timedelta(minutes=29)})
    reports: list[tuple[str, float, bool]] = []
    stop = asyncio.Event()

    def report(name, unread, stale):
        reports.append((name, unread, stale))
        stop.set()

    await watch(
        health, ["fresh", "silent"], stale_after=timedelta(minutes=15), report=report, stop=stop,
        every=0.01, clock=lambda: T0 + timedelta(minutes=30),
    )  # fmt: skip
    assert reports == [("fresh", 60.0, False), ("silent", 1800.0, True)]
    assert "ALERT: IMAP mailbox silent has not been read for 1800 s" in caplog.text
    assert "fresh" not in caplog.text


class FakeLeases:
    """One lease per mailbox, shared by the replicas' readers."""

    def __init__(self):
        self.holder: dict[str, object] = {}

    def of(self, replica: str):
        leases = self

        class Replica:
            async def acquire(self, mailbox):
                return leases.holder.setdefault(mailbox, replica) == replica

            async def release(self, mailbox):
                if leases.holder.get(mailbox) == replica:
                    del leases.holder[mailbox]

        return Replica()


async def test_a_replica_without_the_lease_stands_by_and_takes_over_when_the_reader_is_gone():
    server, positions = FakeServer(), FakePositions()
    server.messages = {1: b"one"}
    shared = FakeLeases()
    first_intake, second_intake = FakeIntake(), FakeIntake()
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    standby_rounds: list[float] = []

    async def sleep(seconds):
        standby_rounds.append(seconds)
        await asyncio.sleep(0)

    first = reader(server, positions, first_intake, leases=shared.of("a"), idle_timeout=0)
    second = reader(server, positions, second_intake, leases=shared.of("b"), standby=15.0, sleep=sleep)
    running = asyncio.create_task(first.run(stop_first))
    await async_wait_for(lambda: asyncio.sleep(0, first_intake.received), timeout=5, what="the first read")
    standing_by = asyncio.create_task(second.run(stop_second))
    await async_wait_for(lambda: asyncio.sleep(0, len(standby_rounds) >= 3), timeout=5, what="standing by")
    assert second_intake.received == [] and set(standby_rounds) == {15.0}

    stop_first.set()
    await asyncio.wait_for(running, 5)  # the first replica stops and gives the lease up
    server.messages[2] = b"two"
    await async_wait_for(lambda: asyncio.sleep(0, second_intake.received), timeout=5, what="the takeover")
    stop_second.set()
    await asyncio.wait_for(standing_by, 5)
    assert (first_intake.received, second_intake.received) == ([b"one"], [b"two"])
    assert shared.holder == {}
