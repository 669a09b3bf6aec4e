"""`crs config`: every environment variable the code reads, with the value it would use now."""

from __future__ import annotations

import importlib
import os
import pkgutil

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


def run(args) -> int:
    _load_everything()
    for service in settings.METRICS_PORTS:
        settings.metrics_port(service)
    for service in ("contacts", "billing", "fulfillment", "knowledge"):
        settings.grpc_target(service)
    settings.Common.from_env()
    width = max(len(name) for name in settings.KNOWN)
    for name in sorted(settings.KNOWN):
        value = os.environ.get(name) or settings.KNOWN[name]
        if "SECRET" in name or "PASSWORD" in name:
            value = "(set)" if os.environ.get(name) else "(development default)"
        print(f"{name:<{width}}  {value}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("config", help="print every environment variable CRS reads")
    parser.set_defaults(func=run)
