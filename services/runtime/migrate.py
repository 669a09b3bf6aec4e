"""Schema migrations: plain SQL files per service, applied in order, each in its own transaction.

Why not a migrations library: every service owns one schema and one role, and its migrations must run
as that role inside that schema, under a lock, with a record of what ran and a checksum that catches an
edited migration. That is the whole job, and it is smaller than the configuration the general tools need
for it (see docs/decisions.md).

Migrations run with the database owner's credentials (CRS_DATABASE_URL). Afterwards each schema's login
role is created or given its current password (CRS_<SCHEMA>_DB_PASSWORD) and granted the rows of that
schema's tables: no DDL, and nothing in any other schema. A table whose comment starts with
"append-only" is granted SELECT and INSERT only.
"""

from __future__ import annotations

import hashlib
import pathlib
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from services.runtime.db import login_role_for, role_for
from services.runtime.settings import DATABASE_SCHEMAS, database_password

SERVICES_DIR = pathlib.Path(__file__).resolve().parent.parent
RUNTIME_MIGRATIONS = pathlib.Path(__file__).resolve().parent / "migrations"
SCHEMAS = DATABASE_SCHEMAS
APPEND_ONLY = "append-only"
# Roles are shared by every database of a cluster, so two databases migrating at once can race to
# create or alter the same role; the loser tries again.
_ROLE_RACES = (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation, psycopg.errors.InternalError)


# duplicate table, object, column, function and schema
_ALREADY_THERE = frozenset({"42P07", "42710", "42701", "42723", "42P06"})


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    path: pathlib.Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations_for(schema: str) -> list[Migration]:
    """The runtime's migrations (outbox) followed by the service's own, by file name."""
    found = [Migration(f"runtime/{p.name}", p) for p in sorted(RUNTIME_MIGRATIONS.glob("*.sql"))]
    service_dir = SERVICES_DIR / schema / "migrations"
    found += [Migration(p.name, p) for p in sorted(service_dir.glob("*.sql"))]
    return found


def migrate(url: str, schema: str) -> list[str]:
    """Bring `schema` up to date; return the versions applied now."""
    role = role_for(schema)
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"crs-migrate:{schema}",))
        try:
            _ensure_role(conn, role, login=False)
            # A migrating user that is not a superuser must be a member of the role to act as it;
            # PostgreSQL 16 no longer grants that implicitly to the role's creator.
            superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[
                0
            ]
            if not superuser:
                conn.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                    sql.Identifier(schema), sql.Identifier(role)
                )
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                    " version text PRIMARY KEY, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                ).format(sql.Identifier(schema))
            )
            conn.execute(
                sql.SQL("ALTER TABLE {}.schema_migrations OWNER TO {}").format(
                    sql.Identifier(schema), sql.Identifier(role)
                )
            )
            done = dict(
                conn.execute(
                    sql.SQL("SELECT version, checksum FROM {}.schema_migrations").format(
                        sql.Identifier(schema)
                    )
                ).fetchall()
            )
            pending = migrations_for(schema)
            for migration in pending:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"{schema}: migration {migration.version} was edited after it ran; "
                            "add a new migration instead"
                        )
                    continue
                renamed_from = _renamed_from(migration, done, {m.version for m in pending})
                if renamed_from:
                    _record_rename(conn, schema, renamed_from, migration.version)
                    done[migration.version] = done.pop(renamed_from)
                    continue
                _apply(conn, schema, role, migration)
                applied_now.append(migration.version)
            grant_login_role(conn, schema)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"crs-migrate:{schema}",))
    return applied_now


def _renamed_from(migration: Migration, done: dict[str, str], present: set[str]) -> str | None:
    """The recorded version this migration ran as before its file was renumbered: the same checksum under
    a name that no file has any more. Renumbering happens when two lines of work each add a migration with
    the same number; a database migrated from one of them must not run the same SQL a second time."""
    for version, checksum in done.items():
        if checksum == migration.checksum and version not in present:
            return version
    return None


def _record_rename(conn: psycopg.Connection, schema: str, old: str, new: str) -> None:
    conn.execute(
        sql.SQL("UPDATE {}.schema_migrations SET version = %s WHERE version = %s").format(
            sql.Identifier(schema)
        ),
        (new, old),
    )


def _apply(conn: psycopg.Connection, schema: str, role: str, migration: Migration) -> None:
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                (migration.version, migration.checksum),
            )
    except psycopg.Error as exc:
        if exc.sqlstate not in _ALREADY_THERE:
            raise MigrationError(
                f"{schema}: migration {migration.version} failed, nothing of it was applied: "
                f"{exc.diag.message_primary or exc}"
            ) from exc
        # The schema holds what this migration creates, but its record says it never ran: a database
        # migrated from other migration files (another branch's).
        raise MigrationError(
            f"{schema}: migration {migration.version} failed, nothing of it was applied: "
            f"{exc.diag.message_primary}. The schema already holds what it creates, but "
            f"{schema}.schema_migrations does not record it, so this database was migrated from other "
            "migration files. Migrate a new database (CRS_DATABASE_URL) or drop this one's "
            f"{schema} schema and run `crs migrate` again."
        ) from exc


def _ensure_role(conn: psycopg.Connection, role: str, *, login: bool, password: str = "") -> None:
    for attempt in range(5):
        try:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            if login:
                conn.execute(
                    sql.SQL("ALTER ROLE {} LOGIN NOINHERIT PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
            return
        except _ROLE_RACES:
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def grant_login_role(conn: psycopg.Connection, schema: str) -> None:
    """Create `schema`'s login role and give it the rows of that schema's tables and nothing else."""
    login = sql.Identifier(login_role_for(schema))
    name = sql.Identifier(schema)
    _ensure_role(conn, login_role_for(schema), login=True, password=database_password(schema))
    with conn.transaction():
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(name))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, login))
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                name, login
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(name, login)
        )
        append_only = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')"
            " AND obj_description(c.oid, 'pg_class') LIKE %s",
            (schema, APPEND_ONLY + "%"),
        ).fetchall()
        for (table,) in append_only:
            conn.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(schema, table), login
                )
            )


def ensure_database(url: str) -> bool:
    """Create the database named in `url` when it does not exist; return True when it was created."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname") or "postgres"
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def migrate_all(url: str) -> dict[str, list[str]]:
    """Migrate every service schema that has migrations."""
    return {
        schema: migrate(url, schema) for schema in SCHEMAS if (SERVICES_DIR / schema / "migrations").is_dir()
    }
