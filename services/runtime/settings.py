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
DATABASE_SCHEMAS = (
    "contacts",
    "billing",
    "fulfillment",
    "screenpop",
    "console",
    "knowledge",
    "insights",
    "channels",
    "outreach",
)


def _development_secrets() -> dict[str, str]:
    found = {
        # Read only when recordings go to S3 (CRS_RECORDINGS_URL=s3://...).
        "CRS_S3_ACCESS_KEY": "crs-dev",
        "CRS_S3_SECRET_KEY": "crs-dev-secret",
        # kid:secret pairs, the first signing (services/console/tokens.py).
        "CRS_CONSOLE_TOKEN_KEYS": "dev:crs-dev-console-token-key-for-laptops-only",
        # Signs outreach's consumer links: one-click unsubscribe (services/outreach/unsubscribe.py).
        "CRS_OUTREACH_LINK_SECRET": "crs-dev-outreach-link-secret",
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
        if name in URLS_WITH_CREDENTIALS:
            if in_production():
                _refuse_development_url(name)
        else:
            secret(name)


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

# The URLs whose password is a credential: a service's CRS_DATABASE_URL names only the server and the
# database (it logs in with its own CRS_<SCHEMA>_DB_PASSWORD); the owner's credentials in it are for
# migrations alone.
URLS_WITH_CREDENTIALS = ("CRS_DATABASE_URL", "CRS_AMQP_URL")
_BUCKET = ("CRS_S3_ACCESS_KEY", "CRS_S3_SECRET_KEY")

# The credentials each process reads; a production process checks these before it does anything else.
SECRETS_BY_PROCESS: dict[str, tuple[str, ...]] = {
    "contacts": ("CRS_CONTACTS_DB_PASSWORD", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "billing": ("CRS_BILLING_DB_PASSWORD", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "fulfillment": ("CRS_FULFILLMENT_DB_PASSWORD", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "screenpop": ("CRS_SCREENPOP_DB_PASSWORD", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "console": ("CRS_CONSOLE_DB_PASSWORD", "CRS_CONSOLE_TOKEN_KEYS", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "knowledge": ("CRS_KNOWLEDGE_DB_PASSWORD", "CRS_DATABASE_URL"),
    "insights": ("CRS_INSIGHTS_DB_PASSWORD", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "channels": ("CRS_CHANNELS_DB_PASSWORD", "CRS_DATABASE_URL"),
    "outreach": ("CRS_OUTREACH_DB_PASSWORD", "CRS_OUTREACH_LINK_SECRET", "CRS_DATABASE_URL", "CRS_AMQP_URL"),
    "telephony": ("CRS_AMQP_URL",),
}
# Credentials read only in some set-ups, so not refused at start when empty: the S3 keys when recordings
# go to a bucket, the SIP passwords (which telephony and the edge check themselves). With the above, a
# container receives these and no other (tests/deploy/test_secrets_per_container.py).
OPTIONAL_SECRETS_BY_PROCESS: dict[str, tuple[str, ...]] = {
    "console": _BUCKET,
    "telephony": (*_BUCKET, "CRS_SIP_PASSWORD"),
    "telephony.edge": ("CRS_SIP_PASSWORD", "CRS_SIP_PEER_USERNAME", "CRS_SIP_PEER_PASSWORD"),
}
# Processes that read another's credentials: fulfillment's workflow worker is fulfillment's, on its schema
# and its broker; `crs migrate` (and the demo seed) act as every schema's owner.
_SAME_CREDENTIALS = {"fulfillment.worker": "fulfillment"}
MIGRATIONS = "cli"
# Processes with a TLS identity of their own (a certificate named after the process: services/runtime/tls.py).
TLS_IDENTITIES = (
    "contacts",
    "billing",
    "fulfillment",
    "screenpop",
    "console",
    "knowledge",
    "insights",
    "channels",
    "outreach",
    "telephony",
)


def credentials_of(process: str) -> frozenset[str]:
    """Every credential `process` may be given: what it refuses to start without, and what it reads in
    some set-ups. For migrations: the owner's database URL and every schema's login password."""
    if process == MIGRATIONS:
        return frozenset({"CRS_DATABASE_URL", *(database_password_setting(s) for s in DATABASE_SCHEMAS)})
    process = _SAME_CREDENTIALS.get(process, process)
    found = set(SECRETS_BY_PROCESS.get(process, ()) + OPTIONAL_SECRETS_BY_PROCESS.get(process, ()))
    # A service's database URL names the server and the database; one with a password in it is the owner's.
    return frozenset(found - {"CRS_DATABASE_URL"})


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


# Where each gRPC API is reached by default (its server listens on the same port).
GRPC_TARGETS = {
    "contacts": "127.0.0.1:50051",
    "billing": "127.0.0.1:50052",
    "fulfillment": "127.0.0.1:50053",
    "screenpop": "127.0.0.1:50054",
    "telephony": "127.0.0.1:50055",
    "insights": "127.0.0.1:50056",
    "knowledge": "127.0.0.1:50057",
    "channels": "127.0.0.1:50058",
    "outreach": "127.0.0.1:50059",
}


def grpc_target(service: str) -> str:
    """The address clients use to reach `service`'s gRPC API."""
    return env(f"CRS_{service.upper()}_GRPC", GRPC_TARGETS[service])


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
    "insights": 9108,
    "knowledge": 9109,
    "channels": 9110,
    "outreach": 9111,
}


def metrics_port(service: str) -> int:
    """The Prometheus port of `service`'s process; 0 turns the endpoint off."""
    return env_int(f"CRS_{service.upper()}_METRICS_PORT", METRICS_PORTS[service])
