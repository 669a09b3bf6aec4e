"""The whole system for the consumer's rights: contacts, billing, fulfillment, outreach, screenpop and
telephony as processes behind the SIP edge, against this run's database and broker, and what a test looks
through."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika

from services.console.seed import seed_demo
from tests.integration.telephony.stack import Telephony, start_edge, start_telephony
from tests.support.processes import ServiceProcess, free_port


@dataclass
class System:
    """The running system; `console_call` speaks to the console's JSON API as a signed-in person."""

    env: dict[str, str]
    edge: str
    contacts_port: int
    telephony: Telephony
    processes: dict[str, ServiceProcess]
    recordings: Path
    logs: list[Path]
    edge_process: object = None
    console: str = ""
    _tokens: dict[str, str] = field(default_factory=dict)

    def console_call(self, method: str, path: str, *, who: tuple[str, str], body: dict | None = None):
        """(status, headers, body bytes) of a console API call as `who` (username, password)."""
        token = self._tokens.get(who[0]) or self._login(*who)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.console}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as refused:
            return refused.code, dict(refused.headers), refused.read()

    def _login(self, username: str, password: str) -> str:
        request = urllib.request.Request(
            f"{self.console}/api/login",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            self._tokens[username] = json.loads(reply.read())["token"]
        return self._tokens[username]

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
    ports = {name: free_port() for name in ("contacts", "billing", "fulfillment", "outreach", "screenpop")}
    env = dict(
        service_env,
        CRS_RECORDINGS_URL=recordings.as_uri(),
        CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}",
        CRS_ERASURE_RETRY_SECONDS="0.5",
        CRS_RETENTION_SWEEP_SECONDS="0",
        **{f"CRS_{name.upper()}_GRPC": f"127.0.0.1:{port}" for name, port in ports.items()},
    )
    processes: dict[str, ServiceProcess] = {}
    for name in ("billing", "fulfillment", "outreach", "screenpop"):
        processes[name] = ServiceProcess(f"services.{name}", env).start(wait_port=ports[name])
    edge_process, edge = start_edge(tmp)
    telephony = start_telephony(
        tmp, amqp_url=service_env["CRS_AMQP_URL"], edge=edge, CRS_RECORDINGS_URL=recordings.as_uri()
    )
    env["CRS_TELEPHONY_GRPC"] = f"127.0.0.1:{telephony.control_port}"
    env["CRS_SIP_EDGE"] = edge
    processes["contacts"] = ServiceProcess("services.contacts", env).start(wait_port=ports["contacts"])
    seed_demo(env["CRS_DATABASE_URL"])
    console_port = free_port()
    console_env = dict(env, CRS_CONSOLE_HTTP=f"127.0.0.1:{console_port}")
    processes["console"] = ServiceProcess("services.console", console_env).start(wait_port=console_port)
    return System(
        env,
        edge,
        ports["contacts"],
        telephony,
        processes,
        recordings,
        [],
        edge_process,
        f"http://127.0.0.1:{console_port}",
    )


def stop(system: System) -> None:
    for name in ("console", "contacts", "screenpop", "outreach", "fulfillment", "billing"):
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
