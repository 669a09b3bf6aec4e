"""A RabbitMQ node of a test's own, which the test may stop, kill and start again.

The machine's broker is shared by every test of the run, so a test that takes the broker away starts its
own node instead: the same RabbitMQ, on free ports, with its data in a temporary directory that outlives a
restart, as a broker's data directory does. It runs as the current user, beside the shared node.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pika

from tests.support.wait import wait_for

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


class PrivateBroker:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="crs-broker-"))
        self.port = port_outside_the_ephemeral_range()
        self.dist_port = port_outside_the_ephemeral_range()
        self.node = f"crs-test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen | None = None
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        (self.home / "rabbitmq-env.conf").touch()

    def _environment(self) -> dict[str, str]:
        return dict(
            os.environ,
            HOME=str(self.home),
            # Not the machine's own rabbitmq-env.conf, which names the shared node.
            RABBITMQ_CONF_ENV_FILE=str(self.home / "rabbitmq-env.conf"),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.home / "data"),
            RABBITMQ_LOG_BASE=str(self.home / "log"),
            RABBITMQ_PID_FILE=str(self.home / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.home / "plugins"),
            RABBITMQ_CONFIG_FILE=str(self.home / "rabbitmq"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )

    def start(self, timeout: float = 120.0) -> PrivateBroker:
        self.process = subprocess.Popen(
            [str(SERVER)],
            env=self._environment(),
            cwd=self.home,
            stdout=open(self.home / "server.out", "ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self._accepts_logins, timeout=timeout, what=f"the private broker on {self.port}")
        return self

    def _accepts_logins(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the private broker exited with {self.process.returncode}:\n{self.output()}"
            )
        try:
            pika.BlockingConnection(pika.URLParameters(self.url + "?connection_attempts=1")).close()
        except pika.exceptions.AMQPError:
            return False
        return True

    def stop(self, *, kill: bool = False, timeout: float = 60.0) -> None:
        """Stop the node: SIGTERM lets it shut down as a service stop would; `kill` is a crash."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # The Erlang VM is a child of the start script; it must be gone before the node starts again.
        wait_for(lambda: not _group_alive(self.process.pid), timeout=timeout, what="the broker's VM to exit")

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def output(self) -> str:
        path = self.home / "server.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def port_outside_the_ephemeral_range() -> int:
    """A free port below the range the kernel hands out to outgoing connections. The node binds it only
    when it has booted, seconds later, and binds it again after each restart; a port from the ephemeral
    range can meanwhile become the local port of one of the run's many client connections."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
        lowest_ephemeral = int(ranges.read().split()[0])
    for _ in range(100):
        port = random.randrange(10000, lowest_ephemeral)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")
