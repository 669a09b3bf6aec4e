"""Each service's database login is a boundary: its own schema's rows, nobody else's, whatever it runs."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from psycopg import sql

from services.runtime import db, migrate

PAIRS = list(itertools.permutations(migrate.SCHEMAS, 2))


def tables_of(database_url: str, schema: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (schema,)
        ).fetchall()
    return [name for (name,) in rows]


def test_every_service_logs_in_as_its_own_role_and_reads_its_own_tables(database_url):
    for schema in migrate.SCHEMAS:
        with db.connect(database_url, schema=schema) as conn:
            assert conn.execute("SELECT session_user").fetchone()[0] == db.login_role_for(schema)
            for table in tables_of(database_url, schema):
                conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))


@pytest.mark.parametrize(("login", "other"), PAIRS, ids=[f"{a}-reads-{b}" for a, b in PAIRS])
def test_a_service_login_cannot_read_another_services_schema_even_after_reset_role(
    database_url, login, other
):
    tables = tables_of(database_url, other)
    assert tables, f"{other} has no tables to try"
    with db.connect(database_url, schema=login, autocommit=True) as conn:
        conn.execute("RESET ROLE")
        for table in tables:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(other, table)))
        for role in (db.role_for(other), db.login_role_for(other), db.role_for(login), "postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize("schema", migrate.SCHEMAS)
def test_a_service_login_cannot_change_its_own_tables_shape(database_url, schema):
    with db.connect(database_url, schema=schema, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, "outbox")))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(schema, "intruder")))


def test_an_append_only_table_takes_inserts_but_no_updates_or_deletes(scratch_schema):
    url, schema = scratch_schema
    with db.connect(url, schema=schema, autocommit=True) as conn:
        conn.execute("INSERT INTO access_entry (what) VALUES ('read')")
        assert conn.execute("SELECT count(*) FROM access_entry").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE access_entry SET what = 'nothing'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM access_entry")


@pytest.fixture
def scratch_schema(tmp_path, monkeypatch):
    import pathlib

    from tests.support import infra

    service_dir = tmp_path / "ledgersvc" / "migrations"
    service_dir.mkdir(parents=True)
    (service_dir / "0001_access.sql").write_text(
        "CREATE TABLE access_entry (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);"
        "COMMENT ON TABLE access_entry IS 'append-only: who read what';"
    )
    monkeypatch.setattr(migrate, "SERVICES_DIR", pathlib.Path(tmp_path))
    name = infra.unique_name("crs_roles")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "ledgersvc")
        yield url, "ledgersvc"
    finally:
        infra.drop_database(name)
