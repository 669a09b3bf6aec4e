"""`crs migrate`: create the database if needed and bring every service schema up to date."""

from __future__ import annotations

import sys

from services.runtime import migrate
from services.runtime.settings import Common


def run(args) -> int:
    url = args.database_url or Common.from_env().database_url
    if migrate.ensure_database(url):
        print("created the database")
    try:
        results = migrate.migrate_all(url)
    except migrate.MigrationError as failure:
        print(f"crs migrate: {failure}", file=sys.stderr)
        return 1
    for schema, applied in results.items():
        print(f"{schema}: {'applied ' + ', '.join(applied) if applied else 'up to date'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("migrate", help="create the database and run every service's migrations")
    parser.add_argument("--database-url", help="defaults to CRS_DATABASE_URL")
    parser.set_defaults(func=run)
