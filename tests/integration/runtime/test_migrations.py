import pathlib

import pytest

from services.runtime import migrate
from tests.support import infra


@pytest.fixture
def scratch_database():
    name = infra.unique_name("crs_migrate")
    url = infra.create_database(name)
    yield url
    infra.drop_database(name)


def test_migrations_run_once_and_an_edited_migration_is_refused(scratch_database, tmp_path, monkeypatch):
    service_dir = tmp_path / "scratchsvc" / "migrations"
    service_dir.mkdir(parents=True)
    (service_dir / "0001_things.sql").write_text("CREATE TABLE thing (id int PRIMARY KEY);")
    monkeypatch.setattr(migrate, "SERVICES_DIR", pathlib.Path(tmp_path))
    assert migrate.migrate(scratch_database, "scratchsvc") == [
        "runtime/0001_outbox.sql",
        "runtime/0002_erasure_log.sql",
        "0001_things.sql",
    ]
    assert migrate.migrate(scratch_database, "scratchsvc") == []
    (service_dir / "0001_things.sql").write_text("CREATE TABLE thing (id bigint PRIMARY KEY);")
    with pytest.raises(migrate.MigrationError, match="edited after it ran"):
        migrate.migrate(scratch_database, "scratchsvc")


def test_a_service_role_cannot_read_another_services_tables(database_url):
    import psycopg

    from services.runtime.db import connect

    with connect(database_url, schema="contacts") as conn:
        conn.execute("SELECT count(*) FROM consumer").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM billing.outbox").fetchone()
