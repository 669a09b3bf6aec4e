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


def test_a_migration_renumbered_after_it_ran_is_recognised_and_not_run_again(
    scratch_database, tmp_path, monkeypatch
):
    service_dir = tmp_path / "scratchsvc" / "migrations"
    service_dir.mkdir(parents=True)
    (service_dir / "0001_things.sql").write_text("CREATE TABLE thing (id int PRIMARY KEY);")
    (service_dir / "0002_pauses.sql").write_text("CREATE TABLE pause (id int PRIMARY KEY);")
    monkeypatch.setattr(migrate, "SERVICES_DIR", pathlib.Path(tmp_path))
    migrate.migrate(scratch_database, "scratchsvc")
    # Another line of work took 0002 first; this one's file is renumbered 0003 when the two meet.
    (service_dir / "0002_pauses.sql").rename(service_dir / "0003_pauses.sql")
    (service_dir / "0002_notes.sql").write_text("CREATE TABLE note (id int PRIMARY KEY);")

    assert migrate.migrate(scratch_database, "scratchsvc") == ["0002_notes.sql"]

    import psycopg

    with psycopg.connect(scratch_database) as conn:
        recorded = [
            row[0]
            for row in conn.execute(
                "SELECT version FROM scratchsvc.schema_migrations WHERE version NOT LIKE 'runtime/%'"
                " ORDER BY version"
            )
        ]
    assert recorded == ["0001_things.sql", "0002_notes.sql", "0003_pauses.sql"]
    assert migrate.migrate(scratch_database, "scratchsvc") == []


def test_a_database_migrated_from_other_files_is_refused_with_what_to_do(
    scratch_database, tmp_path, monkeypatch
):
    service_dir = tmp_path / "scratchsvc" / "migrations"
    service_dir.mkdir(parents=True)
    (service_dir / "0001_pauses.sql").write_text("CREATE TABLE pause (id int PRIMARY KEY);")
    monkeypatch.setattr(migrate, "SERVICES_DIR", pathlib.Path(tmp_path))
    migrate.migrate(scratch_database, "scratchsvc")
    # The same table from a file of other content: the record cannot say it is the one that ran.
    (service_dir / "0001_pauses.sql").rename(service_dir / "0002_pauses.sql")
    (service_dir / "0002_pauses.sql").write_text("CREATE TABLE pause (id bigint PRIMARY KEY);")

    with pytest.raises(migrate.MigrationError) as refused:
        migrate.migrate(scratch_database, "scratchsvc")
    message = str(refused.value)
    assert message.startswith("scratchsvc: migration 0002_pauses.sql failed, nothing of it was applied")
    assert 'relation "pause" already exists' in message
    assert "crs migrate" in message
