"""What the benchmarks share: a seeded database kept between runs, free ports, and the one way to report.

A benchmark reports through `percentiles` (which refuses a run with nothing measured) and exits through
`run_bench` (which turns `BenchFailed` into exit 1). A run that did not do its work must never exit 0.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import NoReturn

import psycopg

from services.runtime import migrate
from tests.support.infra import ADMIN_DATABASE_URL, with_path


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def bench_database(name: str, consumers: int) -> str:
    """A database named `name` with every schema migrated and `consumers` bulk consumers, seeded once."""
    url = with_path(ADMIN_DATABASE_URL, name)
    migrate.ensure_database(url)
    migrate.migrate_all(url)
    with psycopg.connect(url) as conn:
        (have,) = conn.execute("SELECT count(*) FROM contacts.consumer").fetchone()
    if have != consumers:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        migrate.ensure_database(url)
        migrate.migrate_all(url)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "seed",
                "--consumers",
                str(consumers),
                "--database-url",
                url,
            ],
            check=True,
        )
        print(f"seeded {consumers:,} consumers in {time.perf_counter() - started:.0f}s", flush=True)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchFailed(Exception):
    """The run did not measure what it reports, or what it measured came back wrong."""


def require(condition: bool, failure: str) -> None:
    if not condition:
        raise BenchFailed(failure)


MIN_SAMPLES = 2  # the fewest from which a p50 and a p99 mean anything at all


def percentiles(samples_ms: list[float], *, what: str = "samples") -> dict[str, float]:
    """p50, p95, p99 and max; a run with fewer than MIN_SAMPLES measured fails instead of reporting."""
    require(len(samples_ms) >= MIN_SAMPLES, f"{what}: {len(samples_ms)} measured, nothing to report")
    ordered = sorted(samples_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49], "p95": cut[94], "p99": cut[98], "max": ordered[-1]}


def share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({100 * part / whole:.0f} %)" if whole else f"{part:,} of 0"


def run_bench(main: Callable[[], int | None]) -> NoReturn:
    """Run `main` and exit with its code; a BenchFailed is reported plainly and exits 1."""
    try:
        code = main() or 0
    except BenchFailed as failure:
        print(f"{sys.argv[0]}: FAILED: {failure}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code)


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_command(prefixes: tuple[str, ...]) -> float:
    """CPU time so far of every process whose command name starts with one of `prefixes`."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as handle:
                if handle.read().strip().startswith(prefixes):
                    total += process_cpu_seconds(int(entry))
        except OSError:
            continue
    return total
