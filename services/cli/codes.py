"""`crs codes import|export KIND [FILE]`: the code tables (issue, action, status) as CSV.

Import adds new codes and changes existing ones; a code missing from the file is left as it is (codes are
deactivated with active=false, never deleted).
"""

from __future__ import annotations

import asyncio
import sys

from services.contacts.casework.domain import codes
from services.contacts.casework.exceptions import InvalidInput as ValidationError
from services.contacts.casework.store import CodeTables
from services.runtime import db
from services.runtime.settings import Common


async def _with_store(action):
    pool = await db.open_pool(Common.from_env().database_url, schema="contacts", min_size=1, max_size=2)
    try:
        return await action(CodeTables(pool))
    finally:
        await pool.close()


def export(args) -> int:
    rows = asyncio.run(_with_store(lambda store: store.code_rows(args.kind)))
    text = codes.write_csv(args.kind, rows)
    if args.file and args.file != "-":
        with open(args.file, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def import_(args) -> int:
    if args.file == "-":
        text = sys.stdin.read()
    else:
        with open(args.file, encoding="utf-8-sig") as source:
            text = source.read()
    try:
        rows = codes.read_csv(args.kind, text)
    except ValidationError as exc:
        print(f"crs: {args.file}: {exc}", file=sys.stderr)
        return 1

    async def load(store: CodeTables) -> int:
        if args.kind == "issue":
            known = set((await store.load_codes()).issues)
            for row in rows:
                if row["parent"] and row["parent"] not in known:
                    raise ValidationError(
                        f"code {row['code']!r}: its parent {row['parent']!r} does not exist"
                    )
                known.add(row["code"])
        await store.upsert_codes(args.kind, rows)
        return len(rows)

    try:
        count = asyncio.run(_with_store(load))
    except ValidationError as exc:
        print(f"crs: {args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"imported {count} {args.kind} codes")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("codes", help="import or export the casework code tables as CSV")
    commands = parser.add_subparsers(dest="codes_command", metavar="ACTION", required=True)
    out = commands.add_parser("export", help="write a code table as CSV (to stdout, or FILE)")
    out.add_argument("kind", choices=codes.KINDS)
    out.add_argument("file", nargs="?", default="-")
    out.set_defaults(func=export)
    into = commands.add_parser("import", help="add or change codes from a CSV file (- for stdin)")
    into.add_argument("kind", choices=codes.KINDS)
    into.add_argument("file")
    into.set_defaults(func=import_)
