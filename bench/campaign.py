"""Campaign throughput to the SMTP relay: messages a second from a running campaign into a local SMTP sink.

    .venv/bin/python bench/campaign.py                  # 10,000 recipients, a bare counting SMTP sink
    .venv/bin/python bench/campaign.py --quick          # 2,000 recipients
    .venv/bin/python bench/campaign.py --sink maildir   # into the development mail sink (aiosmtpd, Maildir)

The whole path is the real one, in three processes: outreach's sender rounds (CampaignRounds over
CampaignStore on PostgreSQL, every recipient consented, at a rate limit above the figure) in this process,
calling channels' SendNotices over mutual TLS as outreach; a channels process that queues the notices and
sends them through its relay (CRS_SMTP_URL) to the sink, a process of its own. The clock runs from the
campaign's first round to the last message received. Checked: every recipient ends sent, the sink holds
exactly one message per recipient, and each carries the one-click unsubscribe. First, for comparison,
outreach's share alone (notices accepted in memory). CPU per message is given for each process, since the
machine is shared and wall time is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import pathlib
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The bench folder comes first on the path; the repository root is what imports are read from.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import email  # noqa: E402
import email.policy  # noqa: E402

import grpc  # noqa: E402

from bench._common import free_port, machine, percentiles, process_cpu_seconds, require, run_bench  # noqa: E402
from services.outreach.campaign_rounds import CampaignRounds  # noqa: E402
from services.outreach.campaigns_store import CampaignStore  # noqa: E402
from services.outreach.notices_client import ChannelsNotices  # noqa: E402
from services.runtime import migrate, tls  # noqa: E402
from services.runtime.db import open_pool  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.processes import ServiceProcess  # noqa: E402

RATE = 100_000  # the campaign's rate limit, far above the figure, so the path is what is measured
LATER = datetime.now(UTC) + timedelta(minutes=1)  # every recipient due, whatever the hour


class Everyone:
    async def of(self, ids, now):
        return {i: (frozenset({"marketing"}), 0) for i in ids}


class Links:
    def link(self, consumer_id, purpose):
        return f"https://care.example/u/{consumer_id}/{purpose}"


class Accepted:
    """Channels' answer without channels: outreach's own share of the work."""

    async def send(self, notices):
        return [True] * len(notices)


class CountingSmtp(asyncio.Protocol):
    """A bare SMTP receiver: answers every command, and for each message writes one line (its To, and
    whether it carries the one-click unsubscribe) to `log`. What an MTA costs is not the figure here."""

    def __init__(self, log):
        self.log, self.buffer, self.in_data = log, b"", False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 bench sink\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._one():
            pass

    def _one(self) -> bool:
        if self.in_data:
            end = self.buffer.find(b"\r\n.\r\n")
            if end < 0:
                return False
            message, self.buffer, self.in_data = self.buffer[:end], self.buffer[end + 5 :], False
            to = message.split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0]
            self.log.write(to + (b" 1\n" if b"List-Unsubscribe=One-Click" in message else b" 0\n"))
            self.transport.write(b"250 2.0.0 counted\r\n")
            return True
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        command, self.buffer = self.buffer[:4].upper(), self.buffer[end + 2 :]
        answers = {b"DATA": b"354 go on\r\n", b"QUIT": b"221 bye\r\n"}
        self.transport.write(answers.get(command, b"250 ok\r\n"))
        self.in_data = command == b"DATA"
        if command == b"QUIT":
            self.transport.close()
        return True


def serve_sink(kind: str, port: int, directory: str) -> None:
    from services.channels.sink import serve_sink as maildir_sink

    log = open(pathlib.Path(directory) / "counted", "ab", buffering=0) if kind == "counting" else None

    async def forever():
        if log is None:
            await maildir_sink(f"127.0.0.1:{port}", pathlib.Path(directory))
        else:
            await asyncio.get_running_loop().create_server(lambda: CountingSmtp(log), "127.0.0.1", port)
        await asyncio.Event().wait()

    asyncio.run(forever())


async def campaign_of(store: CampaignStore, recipients: int, tag: str) -> str:
    cid = await store.create(kind="marketing", name=f"bench {tag}", subject=f"Offer {tag}", body="Our autumn oats.",
                             created_by="bench", rate_per_second=RATE)  # fmt: skip
    rows = [(str(uuid.uuid4()), f"p{i}-{tag}@example.org", "UTC") for i in range(recipients)]
    await store.add_recipients(cid, rows)
    await store.move(cid, "test", tested_to="bench@example.org")
    await store.move(cid, "start")
    return cid


async def send_all(store: CampaignStore, notices, cid: str) -> list[float]:
    """Ticks until the campaign finishes; each tick's time (ms): a round of up to 500 recipients."""
    rounds = CampaignRounds(
        store, Everyone(), notices, Links(), clock=lambda: LATER, monotonic=time.monotonic
    )
    ticks = []
    while await store.state(cid) == "running":
        at = time.perf_counter()
        wait = await rounds.tick()
        ticks.append((time.perf_counter() - at) * 1000)
        if wait > 0:
            await asyncio.sleep(min(wait, 0.05))
    return ticks


def received(sink: pathlib.Path) -> list[tuple[str, bool]]:
    """(To, carries the one-click unsubscribe) of every message the sink took, whichever sink it is."""
    if (sink / "counted").exists():
        lines = (sink / "counted").read_bytes().decode().splitlines()
        return [(to, flag == "1") for to, flag in (line.rsplit(" ", 1) for line in lines)]
    found = []
    for name in os.listdir(sink / "new"):
        message = email.message_from_bytes((sink / "new" / name).read_bytes(), policy=email.policy.default)
        found.append((str(message["To"]), message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"))
    return found


def filed(sink: pathlib.Path) -> int:
    if (sink / "counted").exists():
        return (sink / "counted").read_bytes().count(b"\n")
    return len(os.listdir(sink / "new")) if (sink / "new").exists() else 0


async def until_filed(sink: pathlib.Path, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while filed(sink) < count:
        require(time.monotonic() < deadline, f"{filed(sink)} of {count} messages filed after {timeout:.0f}s")
        await asyncio.sleep(0.02)


async def measure(url: str, recipients: int, target: str, sink: pathlib.Path, pids: dict[str, int]) -> None:
    pool = await open_pool(url, schema="outreach", max_size=4)
    own = tls.load("outreach")
    channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(own.ca, own.key, own.certificate))
    try:
        store = CampaignStore(pool)
        started = time.perf_counter()
        await send_all(store, Accepted(), await campaign_of(store, recipients, "share"))
        share = recipients / (time.perf_counter() - started)
        print(f"outreach's share alone (notices accepted in memory): {share:,.0f} recipients/s", flush=True)

        notices = ChannelsNotices(channel, deadline=30)
        await send_all(store, notices, await campaign_of(store, 200, "warm"))
        await until_filed(sink, 200, 60)

        cid = await campaign_of(store, recipients, "run")
        cpu = {name: process_cpu_seconds(pid) for name, pid in pids.items()} | {
            "outreach": time.process_time()
        }
        started = time.perf_counter()
        ticks = await send_all(store, notices, cid)
        handed = time.perf_counter() - started
        await until_filed(sink, 200 + recipients, 120)
        took = time.perf_counter() - started
        used = {name: process_cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
        used["outreach"] = time.process_time() - cpu["outreach"]
        progress = await store.progress(cid)
        require(progress.sent == recipients, f"{progress.sent} of {recipients} recipients sent")
        check_sink(sink, recipients)
        print(f"campaign to the SMTP relay: {recipients:,} messages in {took:.1f}s = {recipients / took:,.0f} msg/s "
              f"(handed to channels in {handed:.1f}s = {recipients / handed:,.0f}/s)")  # fmt: skip
        cut = percentiles(ticks, what="rounds")
        print(f"round of up to 500 through SendNotices: p50 {cut['p50']:.1f} ms, p99 {cut['p99']:.1f} ms")
        print("CPU per message: " + ", ".join(f"{k} {v / recipients * 1000:.2f} ms" for k, v in used.items())
              + f"; total {sum(used.values()) / recipients * 1000:.2f} ms (PostgreSQL not counted)")  # fmt: skip
    finally:
        await channel.close()
        await pool.close()


def check_sink(sink: pathlib.Path, recipients: int) -> None:
    mine = [(to, flag) for to, flag in received(sink) if "-run@" in to]
    to, unsubscribe = [t for t, _ in mine], sum(flag for _, flag in mine)
    require(
        len(to) == len(set(to)) == recipients,
        f"{len(to)} messages to {len(set(to))} of {recipients} recipients",
    )
    require(unsubscribe == recipients, f"{unsubscribe} of {recipients} carry the one-click unsubscribe")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sink", choices=("counting", "maildir"), default="counting",
                        help="counting: a bare SMTP receiver; maildir: the development mail sink (aiosmtpd)")  # fmt: skip
    args = parser.parse_args()
    recipients = 2_000 if args.quick else 10_000
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; sink: {args.sink}", flush=True)
    name = infra.unique_name("crs_bench_campaign")
    url = infra.create_database(name)
    sink_dir = pathlib.Path(tempfile.mkdtemp(prefix="crs-bench-sink-"))
    sink_port, grpc_port = free_port(), free_port()
    sink = multiprocessing.get_context("spawn").Process(
        target=serve_sink, args=(args.sink, sink_port, str(sink_dir))
    )
    channels = None
    try:
        for schema in ("channels", "outreach"):
            migrate.migrate(url, schema)
        sink.start()
        env = {
            **os.environ,
            "CRS_DATABASE_URL": url,
            "CRS_LOG_LEVEL": "WARNING",
            "CRS_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
            "CRS_CHANNELS_GRPC": f"127.0.0.1:{grpc_port}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_WEB_FORM_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_EMAIL_ACK": "0",
            "CRS_CHANNELS_FROM": "care@crs.test",
            "CRS_CHANNELS_METRICS_PORT": "0",
        }
        channels = ServiceProcess("services.channels", env).start(wait_port=grpc_port)
        pids = {"channels": channels.process.pid, "sink": sink.pid}
        asyncio.run(measure(url, recipients, f"127.0.0.1:{grpc_port}", sink_dir, pids))
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if channels is not None:
            channels.stop()
        sink.terminate()
        sink.join()
        infra.drop_database(name)
        shutil.rmtree(sink_dir, ignore_errors=True)


if __name__ == "__main__":
    run_bench(main)
