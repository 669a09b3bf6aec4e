"""`crs migrate` and `crs seed`: a database made from nothing, demo data to look at, bulk consumers."""

from __future__ import annotations

import os

import psycopg

from services.channels.demo_letters import FOLDER as DEMO_LETTERS
from services.cli.seed import BULK_OFFSET, consumer_id
from tests.integration.cli.conftest import crs
from tests.support import infra

# What `crs migrate` creates, in the order it prints them.
SCHEMAS = [
    "contacts",
    "billing",
    "fulfillment",
    "screenpop",
    "console",
    "knowledge",
    "insights",
    "channels",
    "outreach",
]


def count(url: str, sql: str, *params) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_migrate_creates_a_missing_database_and_a_second_run_changes_nothing():
    name = infra.unique_name("crs_cli_new")
    url = infra.with_path(infra.ADMIN_DATABASE_URL, name)
    try:
        first = crs(dict(os.environ), "migrate", "--database-url", url)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert lines[0] == "created the database"
        assert [line.split(":")[0] for line in lines[1:]] == SCHEMAS
        assert all("applied runtime/0001_outbox.sql" in line for line in lines[1:])
        with psycopg.connect(url) as conn:
            tables = {
                f"{schema}.{table}"
                for schema, table in conn.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                    " WHERE table_schema = ANY(%s)",
                    (SCHEMAS,),
                )
            }
        assert {"contacts.consumer", "billing.account", "fulfillment.orders", "console.agents"} <= tables

        again = crs(dict(os.environ), "migrate", "--database-url", url)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == [f"{schema}: up to date" for schema in SCHEMAS]
    finally:
        infra.drop_database(name)


def test_seed_demo_loads_the_demo_consumers_and_their_accounts_and_orders_once(fresh_database):
    env = dict(os.environ, CRS_DATABASE_URL=fresh_database)
    for _ in range(2):  # a second run leaves the same data, not twice as much
        seeded = crs(env, "seed", "--demo")
        assert seeded.returncode == 0, seeded.stderr
        assert seeded.stdout.splitlines() == [
            "contacts: demo data in place",
            "billing: demo data in place",
            "fulfillment: demo data in place",
            "console: demo data in place",
            "insights: demo data in place",
            "knowledge: demo data in place",
            "outreach: demo data in place",
            f"channels: demo letter scans to upload on the console's Letters page: {DEMO_LETTERS}",
        ]
    assert sorted(p.suffix for p in DEMO_LETTERS.iterdir()) == [".pdf", ".png"]
    url = fresh_database
    assert count(url, "SELECT count(*) FROM contacts.consumer") == 10
    assert count(url, "SELECT count(*) FROM contacts.consumer WHERE id = %s", consumer_id(0)) == 1
    assert count(url, "SELECT count(*) FROM billing.account") == 9  # the tenth demo consumer has none
    assert count(url, "SELECT count(*) FROM fulfillment.orders") > 0
    # Every demo contact is logged, so a rebuild keeps it; the log also holds the reports' worked cases
    # and survey answers, which are no contact of the early warning's.
    assert count(url, "SELECT count(*) FROM insights.contact") == count(
        url, "SELECT count(*) FROM insights.event_log WHERE NOT (data ? 'work' OR data ? 'rating')"
    )
    assert count(url, "SELECT count(*) FROM insights.sales") > 0
    assert count(url, "SELECT count(*) FROM outreach.consumer WHERE email <> ''") == 6  # with an address
    # The demo campaign: a draft to a segment of the 4 English speakers with an address who agreed.
    assert (
        count(url, "SELECT count(*) FROM outreach.campaign WHERE state = 'draft' AND segment_id IS NOT NULL")
        == 1
    )
    assert count(url, "SELECT count(*) FROM outreach.segment") == 1
    assert count(url, "SELECT count(*) FROM outreach.consent WHERE purpose = 'marketing' AND granted") == 4


def test_seed_consumers_n_gives_n_consumers_each_with_a_phone_and_the_others_data(fresh_database):
    seeded = crs(dict(os.environ, CRS_DATABASE_URL=fresh_database), "seed", "--consumers", "200")
    assert seeded.returncode == 0, seeded.stderr
    services = [line.split(":")[0] for line in seeded.stdout.splitlines()]
    assert services == ["contacts", "billing", "fulfillment"]
    assert all(": 200 consumers seeded in " in line for line in seeded.stdout.splitlines())
    url = fresh_database
    ids = [consumer_id(BULK_OFFSET + i) for i in range(200)]
    assert count(url, "SELECT count(*) FROM contacts.consumer") == 200
    assert count(url, "SELECT count(*) FROM contacts.consumer WHERE id = ANY(%s::uuid[])", ids) == 200
    assert (
        count(
            url,
            "SELECT count(DISTINCT consumer_id) FROM contacts.phone_number WHERE consumer_id = ANY(%s::uuid[])",
            ids,
        )
        == 200
    )
    assert 80 < count(url, "SELECT count(*) FROM billing.account") < 160  # about 60 %
    assert count(url, "SELECT count(DISTINCT consumer_id) FROM fulfillment.orders") > 0


def test_seeding_the_same_consumers_again_keeps_them_as_they_were(fresh_database):
    env = dict(os.environ, CRS_DATABASE_URL=fresh_database)
    numbers = "SELECT string_agg(e164 || '/' || position, ',' ORDER BY consumer_id, position) FROM contacts.phone_number"
    assert crs(env, "seed", "--consumers", "50").returncode == 0
    first = count(fresh_database, numbers)
    again = crs(env, "seed", "--consumers", "60")
    assert again.returncode == 0, again.stderr
    assert count(fresh_database, "SELECT count(*) FROM contacts.consumer") == 60
    assert count(fresh_database, "SELECT count(*) FROM contacts.phone_number WHERE position = 0") == 60
    kept = count(
        fresh_database,
        numbers.replace("phone_number", "phone_number WHERE consumer_id = ANY(%s::uuid[])"),
        [consumer_id(BULK_OFFSET + i) for i in range(50)],
    )
    assert kept == first


def test_seed_without_a_choice_says_what_to_pass(fresh_database):
    nothing = crs(dict(os.environ, CRS_DATABASE_URL=fresh_database), "seed")
    assert nothing.returncode == 2
    assert nothing.stdout.strip() == "nothing to do: pass --demo or --consumers N"
