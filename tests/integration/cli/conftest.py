"""The `crs` command run as an operator runs it: a subprocess with this run's database and broker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.runtime import migrate
from tests.support import infra


def crs(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def fresh_database():
    """A migrated database of its own, for commands whose effect is counted in whole tables."""
    name = infra.unique_name("crs_cli")
    url = infra.create_database(name)
    try:
        migrate.migrate_all(url)
        yield url
    finally:
        infra.drop_database(name)
