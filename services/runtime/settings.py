"""Settings read from environment variables, each with a default that works on a developer's machine.

Every variable the code reads goes through `env()`, so that `crs config` and the deploy policy tests can
list them. The same names appear in docker-compose.yml and the Kubernetes ConfigMaps.

Secrets are declared once, in `SECRETS`, with their development value. With CRS_ENV=production a secret
that is empty, unset or still its development value stops the process, naming it: an empty Kubernetes
Secret must never turn quietly into a key that is printed in this repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

KNOWN: dict[str, str] = {}
PRODUCTION = "production"
# One schema per service that keeps data, each with its own login role (services/runtime/db.py). Order
# matters only for humans reading the migration log: schemas never reference one another.
DATABASE_SCHEMAS = ("contacts", "billing", "fulfillment", "screenpop", "console", "knowledge")


def _development_secrets() -> dict[str, str]:
    found = {
        "CRS_RECORDING_LINK_SECRET": "crs-dev-recording-link-secret",
        # Read only when recordings go to S3 (CRS_RECORDINGS_URL=s3://...).
        "CRS_S3_ACCESS_KEY": "crs-dev",
        "CRS_S3_SECRET_KEY": "crs-dev-secret",
        # kid:secret pairs, the first signing (services/console/tokens.py).
        "CRS_CONSOLE_TOKEN_KEYS": "dev:crs-dev-console-token-key-for-laptops-only",
    }
    for schema in DATABASE_SCHEMAS:
        found[database_password_setting(schema)] = f"crs-dev-{schema}-db"
    return found


def database_password_setting(schema: str) -> str:
    return f"CRS_{schema.upper()}_DB_PASSWORD"


def database_password(schema: str) -> str:
    """The password of `schema`'s login role; development: "crs-dev-<schema>-db"."""
    if schema not in DATABASE_SCHEMAS:
        # A schema only a test makes up: not a setting any deployment reads.
        return os.environ.get(database_password_setting(schema)) or f"crs-dev-{schema}-db"
    return env(f"CRS_{schema.upper()}_DB_PASSWORD", f"crs-dev-{schema}-db")


class DevelopmentSecret(SystemExit):
    """A production process was given an empty or development secret; the message names it."""


def deployment() -> str:
    """CRS_ENV: "development" (the default) or "production"."""
    return env("CRS_ENV", "development")


def in_production() -> bool:
    return deployment() == PRODUCTION


def env(name: str, default: str) -> str:
    """Return the environment variable `name`, or `default` when it is unset or empty.

    A declared secret is never defaulted in production: see `secret()`.
    """
    if name in SECRETS:
        return secret(name)
    KNOWN.setdefault(name, default)
    return os.environ.get(name) or default


def secret(name: str) -> str:
    """The declared secret `name`; in production, refuse one that is empty or its development value."""
    development = SECRETS[name]
    KNOWN.setdefault(name, development)
    value = os.environ.get(name, "")
    if in_production():
        if not value:
            raise DevelopmentSecret(f"CRS_ENV=production but {name} is empty: set it from the Secret")
        if value == development or value.startswith("crs-dev"):
            raise DevelopmentSecret(
                f"CRS_ENV=production but {name} is still its development value: set a real one"
            )
        return value
    return value or development


def refuse_development_secrets(names) -> None:
    """At start-up: stop now, naming the first secret of `names` a production process may not run with."""
    for name in names:
        secret(name)
    if in_production():
        for name in ("CRS_DATABASE_URL", "CRS_AMQP_URL"):
            _refuse_development_url(name)


def _refuse_development_url(name: str) -> None:
    from urllib.parse import urlsplit

    value = os.environ.get(name, "")
    if not value:
        raise DevelopmentSecret(f"CRS_ENV=production but {name} is empty: set it from the Secret")
    password = urlsplit(value).password or ""
    if password.startswith("crs-dev") or password == "guest":
        raise DevelopmentSecret(f"CRS_ENV=production but {name} carries a development password")


def env_int(name: str, default: int) -> int:
    raw = env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from exc


SECRETS: dict[str, str] = _development_secrets()
# Declared up front, not only when first read, so that `crs config` and the deploy checks list them.
for _schema in DATABASE_SCHEMAS:
    KNOWN.setdefault(database_password_setting(_schema), SECRETS[database_password_setting(_schema)])

# The secrets each process reads; a production process checks these before it does anything else.
SECRETS_BY_PROCESS: dict[str, tuple[str, ...]] = {
    "contacts": ("CRS_RECORDING_LINK_SECRET", "CRS_CONTACTS_DB_PASSWORD"),
    "billing": ("CRS_BILLING_DB_PASSWORD",),
    "fulfillment": ("CRS_FULFILLMENT_DB_PASSWORD",),
    "screenpop": ("CRS_SCREENPOP_DB_PASSWORD",),
    "console": ("CRS_CONSOLE_DB_PASSWORD", "CRS_CONSOLE_TOKEN_KEYS"),
    "knowledge": ("CRS_KNOWLEDGE_DB_PASSWORD",),
    "telephony": (),
}


def split_hostport(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclass(frozen=True)
class Common:
    """What every process reads."""

    database_url: str
    amqp_url: str
    log_level: str
    home_region: str
    grpc_bind_host: str

    @classmethod
    def from_env(cls) -> Common:
        return cls(
            database_url=env("CRS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/crs"),
            amqp_url=env("CRS_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            log_level=env("CRS_LOG_LEVEL", "INFO"),
            home_region=env("CRS_HOME_REGION", "US"),
            grpc_bind_host=env("CRS_GRPC_BIND_HOST", "127.0.0.1"),
        )


def grpc_target(service: str) -> str:
    """The address clients use to reach `service`'s gRPC API."""
    defaults = {
        "contacts": "127.0.0.1:50051",
        "billing": "127.0.0.1:50052",
        "fulfillment": "127.0.0.1:50053",
        "screenpop": "127.0.0.1:50054",
        "telephony": "127.0.0.1:50055",
        "knowledge": "127.0.0.1:50057",
    }
    return env(f"CRS_{service.upper()}_GRPC", defaults[service])


def grpc_bind(service: str) -> str:
    """The address `service`'s gRPC server listens on: the bind host with the port of its target."""
    _, port = split_hostport(grpc_target(service))
    host = Common.from_env().grpc_bind_host
    return f"{host}:{port}"


METRICS_PORTS = {
    "contacts": 9101,
    "telephony": 9102,
    "screenpop": 9103,
    "fulfillment": 9104,
    "billing": 9105,
    "console": 9106,
    "knowledge": 9109,
}


def metrics_port(service: str) -> int:
    """The Prometheus port of `service`'s process; 0 turns the endpoint off."""
    return env_int(f"CRS_{service.upper()}_METRICS_PORT", METRICS_PORTS[service])
