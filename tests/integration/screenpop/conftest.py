"""A screenpop process against this run's PostgreSQL and RabbitMQ, fed by fake gRPC sources."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest
from crs.telephony.v1 import events_pb2

from services.runtime import bus
from services.runtime.events import Event
from services.screenpop.seed import seed_demo
from tests.integration.screenpop.fakes import fake_servers
from tests.support.wait import async_wait_for

LOGINS = {
    "1001": ("ada", "ada-demo-1001"),
    "1002": ("ben", "ben-demo-1002"),
    "supervisor": ("sam", "sam-demo-super"),
}
SOURCE_DEADLINE_MS = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Screenpop:
    def __init__(self, base: str, process: subprocess.Popen, servers, publisher, env: dict[str, str]):
        self.env = env
        self.base = base
        self.process = process
        self.servers = servers
        self.publisher = publisher
        self._tokens: dict[str, str] = {}

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    async def token(self, who: str) -> str:
        if who not in self._tokens:
            username, password = LOGINS[who]
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"{self.base}/api/login", json={"username": username, "password": password}
                ) as reply:
                    assert reply.status == 200, await reply.text()
                    self._tokens[who] = (await reply.json())["token"]
        return self._tokens[who]

    async def ring(
        self, *, extension: str, number: str = "", withheld: bool = False, call_id: str | None = None
    ):
        call_id = call_id or f"{uuid.uuid4()}@test"
        message = events_pb2.CallRinging(
            call_id=call_id,
            extension=extension,
            caller=events_pb2.Caller(number=number, display="CALLER", withheld=withheld),
        )
        message.invite_received_at.FromDatetime(datetime.now(UTC))
        await self.publisher.publish(Event.of("telephony", "call_ringing", message, correlation_id=call_id))
        return call_id

    async def answer(self, *, extension: str, call_id: str):
        message = events_pb2.CallAnswered(call_id=call_id, extension=extension, recording=True)
        await self.publisher.publish(Event.of("telephony", "call_answered", message, correlation_id=call_id))

    async def end(self, *, extension: str, call_id: str):
        message = events_pb2.CallEnded(
            call_id=call_id, extension=extension, reason=events_pb2.END_REASON_COMPLETED
        )
        await self.publisher.publish(Event.of("telephony", "call_ended", message, correlation_id=call_id))


async def next_message(ws, *, timeout: float = 5.0, keep_clears: bool = False) -> dict:
    """The next JSON message on the socket; fails after `timeout` seconds.

    A `clear` is skipped unless asked for: an earlier test's call may end after this test's socket opened.
    """
    while True:
        message = await ws.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, f"expected a text frame, got {message.type}"
        body = json.loads(message.data)
        if body.get("type") != "clear" or keep_clears:
            return body


async def next_of_type(ws, kind: str, *, timeout: float = 5.0, call_id: str | None = None) -> dict:
    while True:
        message = await next_message(ws, timeout=timeout, keep_clears=kind == "clear")
        if message.get("type") == kind and call_id in (None, message.get("call_id")):
            return message


async def wait_ready(base: str, process: subprocess.Popen, log_path) -> None:
    async def ready():
        if process.poll() is not None:
            raise AssertionError(f"screenpop exited: {log_path.read_text()[-2000:]}")
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as reply:
                return reply.status == 200
        except aiohttp.ClientError:
            return False

    await async_wait_for(ready, timeout=30, interval=0.1, what="screenpop to be ready")


def start_process(env: dict[str, str], log_path):
    """Start `python -m services.screenpop` with its log in `log_path`; the caller closes the file."""
    log_file = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-m", "services.screenpop"], env=env, stderr=log_file), log_file


@pytest.fixture(scope="module")
async def screenpop(service_env, database_url, amqp_url, tmp_path_factory):
    seed_demo(database_url)
    servers = fake_servers()
    for server in servers.values():
        await server.start()
    port = free_port()
    env = {
        **service_env,
        "CRS_SCREENPOP_HTTP": f"127.0.0.1:{port}",
        "CRS_CONTACTS_GRPC": servers["contacts"].target,
        "CRS_BILLING_GRPC": servers["billing"].target,
        "CRS_FULFILLMENT_GRPC": servers["fulfillment"].target,
        "CRS_SCREENPOP_SOURCE_DEADLINE_MS": str(SOURCE_DEADLINE_MS),
    }
    log_path = tmp_path_factory.mktemp("screenpop") / "screenpop.log"
    process, log_file = start_process(env, log_path)
    connection = await bus.connect(amqp_url)
    publisher = await bus.Publisher(connection, "telephony").open()
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process, log_path)
        yield Screenpop(base, process, servers, publisher, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
        await connection.close()
        for server in servers.values():
            await server.stop()
