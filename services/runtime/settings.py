"""Settings read from environment variables, each with a default that works on a developer's machine.

Every variable the code reads goes through `env()`, so that `crs config` and the deploy policy tests can
list them. The same names appear in docker-compose.yml and the Kubernetes ConfigMaps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

KNOWN: dict[str, str] = {}


def env(name: str, default: str) -> str:
    """Return the environment variable `name`, or `default` when it is unset or empty."""
    KNOWN.setdefault(name, default)
    return os.environ.get(name) or default


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
