"""A PostgreSQL 15 cluster of a test's own, which the test may restart, beside the machine's shared one.

The cluster lives in a temporary directory owned by the `postgres` OS user (the server refuses to run as
root), listens on 127.0.0.1 on a free port below the ephemeral range, trusts local connections, and keeps
its socket in its own directory, so nothing of the shared cluster (its port, its socket, its data) is
touched.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.support.broker import port_outside_the_ephemeral_range
from tests.support.wait import wait_for

BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="crs-pg-"))
        self.data = self.home / "data"
        self.port = port_outside_the_ephemeral_range()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.home, owner.pw_uid, owner.pw_gid)

    def _run(self, *command: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")

    def init(self) -> PrivatePostgres:
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.home}'\nmax_connections = 200\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        return self

    def start(self, timeout: float = 60) -> PrivatePostgres:
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "server.log"), "-w", "start",
            timeout=timeout,
        )  # fmt: skip
        wait_for(self.accepts, timeout=timeout, what=f"the private PostgreSQL on {self.port}")
        return self

    def accepts(self) -> bool:
        try:
            psycopg.connect(self.admin_url, connect_timeout=1).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """A restart as an operator's `pg_ctl restart -m fast`: every session is cut, the data stays."""
        self.stop(mode)
        self.start()

    def database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        path = self.home / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.home, ignore_errors=True)
