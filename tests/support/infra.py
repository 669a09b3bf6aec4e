"""Throwaway PostgreSQL databases and RabbitMQ vhosts, one per test run, removed afterwards."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

ADMIN_DATABASE_URL = os.environ.get(
    "CRS_TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BROKER_URL = os.environ.get("CRS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, parts.fragment))


def create_database(name: str) -> str:
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_path(ADMIN_DATABASE_URL, name)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(name: str) -> str:
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return with_path(BROKER_URL, quote(name, safe=""))


def delete_vhost(name: str) -> None:
    _rabbitmqctl("delete_vhost", name)


@contextmanager
def migrated_database(prefix: str) -> Iterator[str]:
    """A database of its own, migrated for every service, dropped afterwards: for tests whose figures must
    not see what other tests of the session wrote."""
    from services.runtime import migrate

    name = unique_name(prefix)
    url = create_database(name)
    try:
        migrate.migrate_all(url)
        yield url
    finally:
        drop_database(name)


@contextmanager
def own_vhost(prefix: str) -> Iterator[str]:
    """A vhost of its own, deleted afterwards: no consumer started elsewhere in the session shares its
    queues and takes its messages."""
    name = unique_name(prefix)
    url = create_vhost(name)
    try:
        yield url
    finally:
        delete_vhost(name)
