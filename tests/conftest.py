"""Fixtures shared by every layer: a fresh database with every service's migrations, and a fresh vhost."""

from __future__ import annotations

import os

import pytest

from tests.support import infra


@pytest.fixture(scope="session")
def database_url():
    """A PostgreSQL database created for this run, migrated for every service, dropped afterwards."""
    from services.runtime import migrate

    name = infra.unique_name("crs_test")
    url = infra.create_database(name)
    try:
        migrate.migrate_all(url)
        yield url
    finally:
        infra.drop_database(name)


@pytest.fixture(scope="session")
def amqp_url():
    """A RabbitMQ vhost created for this run and deleted afterwards."""
    name = infra.unique_name("crs-test")
    url = infra.create_vhost(name)
    try:
        yield url
    finally:
        infra.delete_vhost(name)


@pytest.fixture(scope="session")
def service_env(database_url, amqp_url):
    """Environment for service processes started by tests: this run's database and vhost, no fixed ports."""
    env = dict(os.environ)
    env.update(
        CRS_DATABASE_URL=database_url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="INFO",
    )
    for service in ("contacts", "telephony", "screenpop", "fulfillment", "billing", "console", "knowledge"):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    return env
