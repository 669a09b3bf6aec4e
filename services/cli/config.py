"""`crs config`: every environment variable the code reads, with the value it would use now."""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
from pathlib import Path

import services
from services.runtime import settings


def _load_everything() -> None:
    # Settings are declared where they are read; importing the modules that read them at start-up
    # is not enough, so ask each service's settings object.
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if module.name.startswith("services.cli"):
            continue
        try:
            loaded = importlib.import_module(module.name)
        except Exception:  # a module that needs something absent here still leaves the others listed
            continue
        candidate = getattr(loaded, "Settings", None)
        if candidate is not None and hasattr(candidate, "from_env"):
            try:
                candidate.from_env()
            except (SystemExit, Exception):
                pass


READERS = {"env", "env_int", "env_float"}
SECRET = re.compile(r"SECRET|PASSWORD|ACCESS_KEY|TOKEN")
# A password inside a URL's user part (CRS_SMTP_URL, CRS_CHANNELS_IMAP_URLS) is shown as ***.
URL_PASSWORD = re.compile(r"(://[^/:@,\s]+:)[^@,\s]*@")


def _read_where_they_are_used() -> dict[str, str]:
    """Names read inside functions that only run in a process's main (the SIP edge, telephony, the
    CLI's own commands): found in the source, with their default when it is written as a literal."""
    found = {}
    for path in sorted(Path(services.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            reader = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            name = node.args[0]
            if reader in READERS and isinstance(name, ast.Constant) and str(name.value).startswith("CRS_"):
                default = node.args[1] if len(node.args) > 1 else None
                value = default.value if isinstance(default, ast.Constant) else "(computed at start)"
                found.setdefault(name.value, str(value))
    return found


def run(args) -> int:
    _load_everything()
    for name, default in _read_where_they_are_used().items():
        settings.KNOWN.setdefault(name, default)
    for service in settings.METRICS_PORTS:
        settings.metrics_port(service)
    for service in settings.GRPC_TARGETS:
        settings.grpc_target(service)
    settings.Common.from_env()
    width = max(len(name) for name in settings.KNOWN)
    for name in sorted(settings.KNOWN):
        value = os.environ.get(name) or settings.KNOWN[name]
        if SECRET.search(name):
            value = "(set)" if os.environ.get(name) else "(development default)" if value else "(unset)"
        value = URL_PASSWORD.sub(r"\1***@", value)
        print(f"{name:<{width}}  {value}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("config", help="print every environment variable CRS reads")
    parser.set_defaults(func=run)
