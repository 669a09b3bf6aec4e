"""`crs consumer get` against a running contacts service; `crs agent add` gives a login that works."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest

from services.runtime import migrate
from tests.integration.cli.conftest import crs
from tests.support import infra
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for


@pytest.fixture(scope="module")
def stack(amqp_url):
    """A database of its own with contacts and the console (where people log in) running on it."""
    name = infra.unique_name("crs_cli_stack")
    url = infra.create_database(name)
    migrate.migrate_all(url)
    ports = {key: free_port() for key in ("contacts", "contacts_http", "console")}
    env = dict(
        os.environ,
        CRS_DATABASE_URL=url,
        CRS_AMQP_URL=amqp_url,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
        CRS_SCREENPOP_GRPC=f"127.0.0.1:{free_port()}",
        CRS_TELEPHONY_GRPC=f"127.0.0.1:{free_port()}",
        CRS_KNOWLEDGE_GRPC=f"127.0.0.1:{free_port()}",
        CRS_BILLING_GRPC=f"127.0.0.1:{free_port()}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{free_port()}",
    )
    for service in ("contacts", "console"):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    env.pop("CRS_AGENT_PASSWORD", None)
    started = []
    try:
        started.append(ServiceProcess("services.contacts", env).start(wait_port=ports["contacts"]))
        started.append(ServiceProcess("services.console", env).start(wait_port=ports["console"]))
        yield env, f"http://127.0.0.1:{ports['console']}"
    finally:
        for service in reversed(started):
            service.stop()
        infra.drop_database(name)


def log_in(base: str, username: str, password: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["token"]
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_consumer_get_shows_what_consumer_add_stored_and_names_an_unknown_id(stack):
    env, _ = stack
    added = crs(
        env, "consumer", "add", "--name", "Gus Get", "--phone", "(614) 555-0142", "--email", "gus@example.com"
    )
    assert added.returncode == 0, added.stderr
    consumer_id = added.stdout.strip()

    shown = crs(env, "consumer", "get", consumer_id)
    assert shown.returncode == 0, shown.stderr
    consumer = json.loads(shown.stdout)
    assert consumer["id"] == consumer_id
    assert consumer["name"] == "Gus Get"
    assert [p["number"] for p in consumer["phones"]] == ["+16145550142"]  # stored as E.164
    assert [e["address"] for e in consumer["emails"]] == ["gus@example.com"]

    missing = crs(env, "consumer", "get", "00000000-0000-4000-8000-00000000dead")
    assert missing.returncode == 1
    assert "not found" in missing.stderr


def test_agent_add_creates_an_account_that_logs_in_with_its_password_only(stack):
    env, base = stack
    added = crs(
        env,
        "agent",
        "add",
        "gwen",
        "--name",
        "Gwen Grey",
        "--extension",
        "1077",
        "--password",
        "gwen-pw-1077",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "gwen: agent on extension 1077"
    assert wait_for(lambda: log_in(base, "gwen", "gwen-pw-1077") == 200, timeout=10, what="gwen to log in")
    assert log_in(base, "gwen", "not-gwens-password") == 401

    # From the environment when not on the command line; the role as asked.
    again = crs(dict(env, CRS_AGENT_PASSWORD="sup-pw-2"), "agent", "add", "sue", "--role", "supervisor")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "sue: supervisor"
    assert log_in(base, "sue", "sup-pw-2") == 200


def test_agent_add_without_a_password_refuses_and_creates_nobody(stack):
    env, base = stack
    refused = crs(env, "agent", "add", "nopw")
    assert refused.returncode == 1
    assert "give a password" in refused.stderr
    assert log_in(base, "nopw", "") == 401


def test_the_demo_agent_logs_in_after_seed_demo(stack):
    env, base = stack
    assert log_in(base, "ada", "ada-demo-1001") == 401
    seeded = crs(env, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    assert log_in(base, "ada", "ada-demo-1001") == 200


def test_agent_add_with_a_services_own_database_login_is_refused_and_creates_nobody(stack):
    from services.runtime import db

    env, base = stack
    # What a console container holds: its own login, which may write the agents table, but is not the owner.
    console_login = db.login_url(env["CRS_DATABASE_URL"], "console")
    refused = crs(
        dict(env, CRS_DATABASE_URL=console_login, CRS_AGENT_PASSWORD="mallory-pw-1"),
        "agent",
        "add",
        "mallory",
        "--role",
        "admin",
    )
    assert refused.returncode == 1
    assert "crs agent add runs only for the database owner" in refused.stderr
    assert log_in(base, "mallory", "mallory-pw-1") == 401
