"""`crs migrate`: create the database if needed and bring every service schema up to date."""

from __future__ import annotations

from services.runtime import migrate
from services.runtime.settings import Common


def run(args) -> int:
    url = args.database_url or Common.from_env().database_url
    if migrate.ensure_database(url):
        print("created the database")
    for schema, applied in migrate.migrate_all(url).items():
        print(f"{schema}: {'applied ' + ', '.join(applied) if applied else 'up to date'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("migrate", help="create the database and run every service's migrations")
    parser.add_argument("--database-url", help="defaults to CRS_DATABASE_URL")
    parser.set_defaults(func=run)
