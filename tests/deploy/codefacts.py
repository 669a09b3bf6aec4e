"""What the code says about deployment: the environment variables it reads, and its ports.

The names come from the source, not from a list kept by hand: every call to `env()`, `env_int()` or
`env_float()` under services/ whose name is a literal. A name built in an f-string (such as
f"CRS_{service.upper()}_GRPC") is expanded by asking the code itself, through the settings functions
that build it, for every service it accepts.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from services.runtime import settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"
READERS = {"env", "env_int", "env_float"}

# Values that carry credentials: they come from Secrets, never from a ConfigMap or an image.
_SECRET_WORDS = re.compile(r"SECRET|PASSWORD|ACCESS_KEY|TOKEN")
_URLS_WITH_CREDENTIALS = {"CRS_DATABASE_URL", "CRS_AMQP_URL"}
# Read only by developer commands under services/cli/ that never run in a deployment (`crs call` drives the
# sipp test caller; `crs watch` and `crs agent` take a person's credentials and the console's address): not
# set in compose or the ConfigMaps. tests/deploy checks they stay CLI-only.
DEVELOPER_TOOL_ONLY = {
    "CRS_SIPP",
    "CRS_WATCH_TOKEN",
    "CRS_WATCH_PASSWORD",
    "CRS_AGENT_PASSWORD",
    "CRS_CONSOLE_URL",
}


@dataclass(frozen=True)
class Read:
    name: str  # a literal name, or a regular expression for an f-string name
    where: str
    pattern: bool = False


def _reader_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _pattern(joined: ast.JoinedStr) -> str:
    parts = []
    for value in joined.values:
        if isinstance(value, ast.Constant):
            parts.append(re.escape(str(value.value)))
        else:
            parts.append("[A-Z0-9_]+")
    return "^" + "".join(parts) + "$"


def source_reads() -> list[Read]:
    """Every name (or f-string pattern) passed to env()/env_int()/env_float() under services/."""
    reads = []
    for path in sorted(SERVICES_DIR.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(), filename=where)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _reader_name(node) in READERS and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                reads.append(Read(first.value, f"{where}:{node.lineno}"))
            elif isinstance(first, ast.JoinedStr):
                reads.append(Read(_pattern(first), f"{where}:{node.lineno}", pattern=True))
            elif isinstance(first, ast.Name) and path.name == "settings.py":
                continue  # env_int/env_float passing their own `name` on to env()
            else:
                raise AssertionError(f"{where}:{node.lineno}: an environment name the scan cannot read")
    return reads


def service_names() -> list[str]:
    """Every service the settings know, and every package under services/ that runs as a process."""
    packages = {p.parent.name for p in SERVICES_DIR.glob("*/__main__.py")}
    return sorted(set(settings.METRICS_PORTS) | packages)


@cache
def dynamic_names() -> frozenset[str]:
    """The names the settings functions build per service, asked of the code itself."""
    before = set(settings.KNOWN)
    for service in service_names():
        for build in (settings.grpc_target, settings.metrics_port):
            try:
                build(service)
            except KeyError:
                pass  # this service has no such setting (e.g. no gRPC API)
    return frozenset(set(settings.KNOWN) - before) | frozenset(
        name for name in settings.KNOWN if name.startswith("CRS_")
    )


@cache
def names_read() -> frozenset[str]:
    """Every CRS_* environment variable the deployed processes read."""
    return all_names_read() - DEVELOPER_TOOL_ONLY


@cache
def all_names_read() -> frozenset[str]:
    """Every CRS_* environment variable any code under services/ reads."""
    names = set()
    for read in source_reads():
        if not read.pattern:
            names.add(read.name)
            continue
        expanded = {n for n in dynamic_names() if re.match(read.name, n)}
        if not expanded:
            raise AssertionError(
                f"{read.where}: an environment name built at run time ({read.name}) that no settings "
                "function expands; teach tests/deploy/codefacts.py how to ask the code for it"
            )
        names |= expanded
    return frozenset(names)


def is_secret(name: str) -> bool:
    return name in _URLS_WITH_CREDENTIALS or bool(_SECRET_WORDS.search(name))


def grpc_ports() -> dict[str, int]:
    """The gRPC port of each service that serves gRPC, from its default client target."""
    ports = {}
    for service in service_names():
        try:
            ports[service] = settings.split_hostport(settings.grpc_target(service))[1]
        except KeyError:
            continue
    return ports


def metrics_ports() -> dict[str, int]:
    return dict(settings.METRICS_PORTS)
