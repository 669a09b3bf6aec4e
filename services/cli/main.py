"""The `crs` command: the operator's and the tests' handle on CRS.

Each module in this package that defines `register(subparsers)` adds its own subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import services.cli as package


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs", description="CRS: consumer relationship system")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name == "main":
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
