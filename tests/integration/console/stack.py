"""Screenpop and the console as processes, against this run's PostgreSQL and RabbitMQ, fed by fake gRPC
servers standing in for contacts (its directory and casework), billing and fulfillment."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import aiohttp
import grpc
from crs.telephony.v1 import events_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.console.seed import seed_demo
from services.runtime import bus, grpcio
from services.runtime.events import Event
from tests.integration.console.fakes import fake_servers
from tests.integration.console.knowledge_fake import knowledge_server
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


class Stack:
    def __init__(self, base: str, processes: dict, servers, publisher, env: dict[str, str]):
        self.env = env
        self.base = base
        self.processes = processes
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
        self,
        *,
        extension: str,
        number: str = "",
        withheld: bool = False,
        call_id: str | None = None,
        control_address: str = "",
    ):
        call_id = call_id or f"{uuid.uuid4()}@test"
        message = events_pb2.CallRinging(
            call_id=call_id,
            extension=extension,
            caller=events_pb2.Caller(number=number, display="CALLER", withheld=withheld),
            control_address=control_address,
        )
        message.invite_received_at.FromDatetime(datetime.now(UTC))
        await self.publisher.publish(Event.of("telephony", "call_ringing", message, correlation_id=call_id))
        return call_id

    async def end_leftover_call(self, extension: str) -> None:
        """End whatever call is still on `extension`'s screen (one rung in this database by an earlier
        suite, say), so that the pops a test sees are the ones it rings."""
        who = next(k for k, (user, _) in LOGINS.items() if k == extension or user == extension)
        headers = {"Authorization": f"Bearer {await self.token(who)}"}

        async def current():
            async with aiohttp.ClientSession() as http:
                url = f"{self.base}/api/pop?extension={extension}"
                async with http.get(url, headers=headers) as reply:
                    return (await reply.json())["pop"]

        async def cleared() -> bool:
            return await current() is None

        pop = await current()
        if pop is not None:
            await self.end(extension=extension, call_id=pop["call_id"])
            await async_wait_for(cleared, timeout=10, what=f"the leftover call on {extension} to end")

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


class Process:
    """`python -m <module>` with its log in a file; stop() fails the test on an unclean exit."""

    def __init__(self, module: str, env: dict[str, str], log_path):
        self.module = module
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen([sys.executable, "-m", module], env=env, stderr=self._log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def alive_or_fail(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.module} exited: {self.log()}")
        return True

    def stop(self) -> int:
        """SIGTERM, and the exit code; a crash or a drain past 15 s fails the test that owns the process."""
        self.popen.terminate()
        try:
            code = self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            self._log.close()
            raise AssertionError(f"{self.module} did not stop within 15 s of SIGTERM: {self.log()}") from None
        self._log.close()
        if code != 0:
            raise AssertionError(f"{self.module} exited with {code} on SIGTERM: {self.log()}")
        return code


async def wait_ready(base: str, process: Process) -> None:
    async def ready():
        process.alive_or_fail()
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as reply:
                return reply.status == 200
        except aiohttp.ClientError:
            return False

    await async_wait_for(ready, timeout=30, interval=0.1, what=f"{process.module} to be ready")


async def wait_serving(target: str, process: Process, *, timeout: float = 30) -> None:
    """Until the process's gRPC health says SERVING (screenpop: its bus consumer is bound by then)."""

    async def serving():
        process.alive_or_fail()
        async with grpcio.channel(target) as channel:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            except grpc.aio.AioRpcError:
                return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    await async_wait_for(serving, timeout=timeout, interval=0.1, what=f"{process.module} to serve")


def console_env(env: dict[str, str], port: int) -> dict[str, str]:
    return {**env, "CRS_CONSOLE_HTTP": f"127.0.0.1:{port}"}


async def start_stack(service_env, database_url, amqp_url, tmp):
    """Start the fakes, screenpop and one console; an async generator that stops them all when closed."""
    seed_demo(database_url)
    servers = fake_servers()
    servers["knowledge"] = await knowledge_server()
    for server in servers.values():
        await server.start()
    port = free_port()
    env = {
        **service_env,
        "CRS_CONTACTS_GRPC": servers["contacts"].target,
        "CRS_BILLING_GRPC": servers["billing"].target,
        "CRS_FULFILLMENT_GRPC": servers["fulfillment"].target,
        "CRS_INSIGHTS_GRPC": servers["insights"].target,
        "CRS_TELEPHONY_GRPC": servers["telephony"].target,
        "CRS_CHANNELS_GRPC": servers["channels"].target,
        "CRS_KNOWLEDGE_GRPC": servers["knowledge"].target,
        "CRS_SCREENPOP_GRPC": f"127.0.0.1:{free_port()}",
        # A test may give the sources a deadline of its own, to tell theirs from the ring's budget.
        "CRS_SCREENPOP_SOURCE_DEADLINE_MS": service_env.get(
            "CRS_SCREENPOP_SOURCE_DEADLINE_MS", str(SOURCE_DEADLINE_MS)
        ),
        "CRS_RECORDINGS_URL": f"file://{tmp}/recordings",
    }
    screenpop = Process("services.screenpop", env, tmp / "screenpop.log")
    console = Process("services.console", console_env(env, port), tmp / "console.log")
    connection = await bus.connect(amqp_url)
    publisher = await bus.Publisher(connection, "telephony").open()
    base = f"http://127.0.0.1:{port}"
    stopped = []
    try:
        await wait_ready(base, console)
        await wait_serving(env["CRS_SCREENPOP_GRPC"], screenpop)
        stack = Stack(base, {"screenpop": screenpop, "console": console}, servers, publisher, env)
        for extension in ("1001", "1002"):
            await stack.end_leftover_call(extension)
        yield stack
    finally:
        for process in (console, screenpop):
            try:
                process.stop()
            except AssertionError as exc:
                stopped.append(str(exc))
        await connection.close()
        for server in servers.values():
            await server.stop()
        # Raised here, in the finally: the fixture closes this generator with aclose(), so code after
        # the try statement would never run, and an unclean exit would pass unreported.
        if stopped:
            raise AssertionError("\n".join(stopped))
