"""The whole system for the consumer's rights: contacts, billing, fulfillment, screenpop and telephony as
processes behind the SIP edge, against this run's database and broker, and what a test looks through."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import aio_pika

from tests.integration.telephony.stack import Telephony, start_edge, start_telephony
from tests.support.processes import ServiceProcess, free_port


@dataclass
class System:
    env: dict[str, str]
    edge: str
    contacts_port: int
    telephony: Telephony
    processes: dict[str, ServiceProcess]
    recordings: Path
    logs: list[Path]
    edge_process: object = None

    def crs(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "services.cli.main", *args],
            env=dict(self.env, **extra),
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    def restart(self, name: str) -> None:
        process = self.processes[name]
        self.logs.append(Path(process.log.name))
        fresh = ServiceProcess(process.module, process.env)
        self.processes[name] = fresh.start(
            wait_port=int(process.env[f"CRS_{name.upper()}_GRPC"].split(":")[1])
        )

    def log_text(self) -> str:
        texts = [path.read_text(errors="replace") for path in self.logs if path.exists()]
        texts += [Path(p.log.name).read_text(errors="replace") for p in self.processes.values()]
        texts.append(self.telephony.process.log_path.read_text(errors="replace"))
        return "\n".join(texts)


def start(tmp: Path, service_env: dict[str, str]) -> System:
    recordings = tmp / "recordings"
    ports = {name: free_port() for name in ("contacts", "billing", "fulfillment", "screenpop")}
    env = dict(
        service_env,
        CRS_RECORDINGS_URL=recordings.as_uri(),
        CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}",
        CRS_ERASURE_RETRY_SECONDS="0.5",
        CRS_RETENTION_SWEEP_SECONDS="0",
        **{f"CRS_{name.upper()}_GRPC": f"127.0.0.1:{port}" for name, port in ports.items()},
    )
    processes: dict[str, ServiceProcess] = {}
    for name in ("billing", "fulfillment", "screenpop"):
        processes[name] = ServiceProcess(f"services.{name}", env).start(wait_port=ports[name])
    edge_process, edge = start_edge(tmp)
    telephony = start_telephony(
        tmp, amqp_url=service_env["CRS_AMQP_URL"], edge=edge, CRS_RECORDINGS_URL=recordings.as_uri()
    )
    env["CRS_TELEPHONY_GRPC"] = f"127.0.0.1:{telephony.control_port}"
    env["CRS_SIP_EDGE"] = edge
    processes["contacts"] = ServiceProcess("services.contacts", env).start(wait_port=ports["contacts"])
    return System(env, edge, ports["contacts"], telephony, processes, recordings, [], edge_process)


def stop(system: System) -> None:
    for name in ("contacts", "screenpop", "fulfillment", "billing"):
        system.processes[name].stop()
    system.telephony.process.stop()
    system.edge_process.stop()


def pg_dump(database_url: str) -> str:
    return subprocess.run(
        ["pg_dump", "--data-only", database_url], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def queued_messages(amqp_url: str) -> list[bytes]:
    """Every message in every queue of the run's vhost, each put back where it was."""
    vhost = urllib.parse.unquote(urllib.parse.urlparse(amqp_url).path.lstrip("/"))
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--formatter", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    queues = [q["name"] for q in json.loads(listed or "[]") if int(q.get("messages", 0)) > 0]
    return asyncio.run(_read_queues(amqp_url, queues))


async def _read_queues(amqp_url: str, queues: list[str]) -> list[bytes]:
    bodies: list[bytes] = []
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for name in queues:
            queue = await channel.get_queue(name, ensure=True)
            held = []
            while (message := await queue.get(no_ack=False, fail=False, timeout=5)) is not None:
                bodies.append(message.body)
                held.append(message)
            for message in held:
                await message.nack(requeue=True)
    finally:
        await connection.close()
    return bodies
