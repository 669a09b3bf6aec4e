"""Service processes started the way `crs run` starts them, on free ports, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support.wait import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ServiceProcess:
    module: str
    env: dict[str, str]
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    log: object = field(default=None)
    final_output: str | None = None

    def start(self, *, wait_port: int | None = None, timeout: float = 30.0) -> ServiceProcess:
        self.log = tempfile.NamedTemporaryFile(prefix=f"{self.module}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.args],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        if wait_port:
            wait_for(
                lambda: self.alive_or_fail() and listening(wait_port),
                timeout=timeout,
                what=f"{self.module} on {wait_port}",
            )
        return self

    def alive_or_fail(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.module} exited with {self.process.returncode}:\n{self.output()}")
        return True

    def output(self) -> str:
        if self.final_output is not None:
            return self.final_output
        with open(self.log.name, errors="replace") as handle:
            return handle.read()[-5000:]

    def stop(self, timeout: float = 20.0, *, expect: int | None = 0) -> int:
        """SIGTERM, then wait for the drain; returns the exit code.

        A process that crashed before, or that exits with anything but `expect` (None: any code), fails the
        test with its log: a teardown must not hide a crash or an unclean drain.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"{self.module} ignored SIGTERM for {timeout}s:\n{self.output()}"
                ) from None
        self.final_output = self.output()
        os.unlink(self.log.name)
        if expect is not None and self.process.returncode != expect:
            raise AssertionError(
                f"{self.module} exited with {self.process.returncode}, not {expect}:\n{self.final_output}"
            )
        return self.process.returncode


def stop_all(processes: list[ServiceProcess]) -> None:
    """Stop every process, newest first, then fail with every one that did not exit cleanly."""
    failures = []
    for service in reversed(processes):
        try:
            service.stop()
        except AssertionError as failure:
            failures.append(str(failure))
    if failures:
        raise AssertionError("\n\n".join(failures))


@contextmanager
def running(env: dict[str, str], services: Sequence[tuple[str, int]]) -> Iterator[list[ServiceProcess]]:
    """Each (module, port) started in order, each answering on its port before the next starts; all
    stopped afterwards, the last started first."""
    started: list[ServiceProcess] = []
    try:
        for module, port in services:
            started.append(ServiceProcess(module, env).start(wait_port=port))
        yield started
    finally:
        for process in reversed(started):
            process.stop()


@contextmanager
def contacts_and_console(
    service_env: dict[str, str], database_url: str, tmp_path, **extra_env: str
) -> Iterator[str]:
    """Contacts and the console as processes on free ports, the demo logins seeded; yields the console's
    base URL. `extra_env` adds or overrides settings (a sweep's interval, say)."""
    from services.console.seed import seed_demo

    seed_demo(database_url)
    console_port, grpc_port, http_port = free_port(), free_port(), free_port()
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{http_port}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{grpc_port}",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{console_port}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
        **extra_env,
    }
    with running(env, [("services.contacts", http_port), ("services.console", console_port)]):
        yield f"http://127.0.0.1:{console_port}"
