"""The `crs` command: the operator's and the tests' handle on CRS.

Each module in this package that defines `register(subparsers)` adds its own subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import services.cli as package
from services.cli import operator


def leaves(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command a person can type, by its words ("agent add"), with the parser that reads it."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        return [(path, parser)] if path else []
    found = []
    for name, sub in actions[0].choices.items():
        found += leaves(sub, f"{path} {name}".strip())
    return found


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
    for name, leaf in leaves(parser):
        # What operator.check_command looks up in the permission table.
        leaf.set_defaults(command_name=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        operator.check_command(args)
        return int(args.func(args) or 0)
    except operator.Refused as refusal:
        print(f"crs: refused: {refusal}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
