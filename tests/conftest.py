"""Fixtures shared by every layer: a fresh database with every service's migrations, a fresh vhost, and a
development CA with a certificate for every service, made for this run."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import pytest

from tests.support import infra

_PKI: list[pathlib.Path] = []


def pytest_configure(config):
    """Every gRPC server and channel of this run, in this process or a child, uses this run's CA.

    The tests themselves call services as the console would, so their own identity is "console".
    """
    from services.runtime import tls

    directory = pathlib.Path(tempfile.mkdtemp(prefix="crs-test-pki-")) / "pki"
    os.environ.pop("CRS_ENV", None)
    os.environ["CRS_TLS_DIR"] = str(tls.ensure_development_pki(directory))
    os.environ["CRS_TLS_IDENTITY"] = "console"
    _PKI.append(directory.parent)


def pytest_unconfigure(config):
    for directory in _PKI:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url():
    """A PostgreSQL database created for this run, migrated for every service, dropped afterwards."""
    with infra.migrated_database("crs_test") as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url():
    """A RabbitMQ vhost created for this run and deleted afterwards."""
    with infra.own_vhost("crs-test") as url:
        yield url


@pytest.fixture(scope="session")
def service_env(database_url, amqp_url):
    """Environment for service processes started by tests: this run's database and vhost, no fixed ports."""
    env = dict(os.environ)
    # Each service process names itself; a command-line tool started by a test is "cli", not the console.
    env.pop("CRS_TLS_IDENTITY", None)
    env.update(
        CRS_DATABASE_URL=database_url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="INFO",
    )
    for service in (
        "contacts",
        "telephony",
        "screenpop",
        "fulfillment",
        "billing",
        "console",
        "knowledge",
        "insights",
        "channels",
        "outreach",
    ):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    return env
