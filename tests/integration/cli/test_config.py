"""`crs config`: every environment variable CRS reads, with the value it would use, secrets masked."""

from __future__ import annotations

import os

from tests.deploy.codefacts import all_names_read
from tests.integration.cli.conftest import crs


def listed(env: dict[str, str]) -> dict[str, str]:
    shown = crs(env, "config")
    assert shown.returncode == 0, shown.stderr
    rows = {}
    for line in shown.stdout.splitlines():
        name, _, value = line.partition(" ")
        rows[name] = value.strip()
    return rows


def test_config_lists_every_variable_the_code_reads():
    rows = listed({k: v for k, v in os.environ.items() if not k.startswith("CRS_")})
    # The names come from a scan of the source (the one the deployment tests check compose and k8s with).
    missing = sorted(all_names_read() - set(rows))
    assert not missing, f"crs config leaves out {missing}"
    assert rows["CRS_SIP_EDGE_PORT"] == "5060"
    assert rows["CRS_BILLING_SHUTDOWN_GRACE"] == "5.0"
    assert rows["CRS_WATCH_TOKEN"] == "(unset)"


def test_config_shows_the_value_set_and_never_a_secret():
    env = dict(
        os.environ,
        CRS_BILLING_SHUTDOWN_GRACE="7.5",
        CRS_SIP_EDGE_PORT="5099",
        CRS_CONTACTS_DB_PASSWORD="s3cret-session-value",
        CRS_S3_ACCESS_KEY="AKIA-not-to-be-shown",
    )
    rows = listed(env)
    assert rows["CRS_BILLING_SHUTDOWN_GRACE"] == "7.5"
    assert rows["CRS_SIP_EDGE_PORT"] == "5099"
    assert rows["CRS_CONTACTS_DB_PASSWORD"] == "(set)"
    assert rows["CRS_S3_ACCESS_KEY"] == "(set)"
    assert "s3cret-session-value" not in str(rows) and "AKIA-not-to-be-shown" not in str(rows)


def test_config_shows_the_imap_mailboxes_and_the_relay_without_their_passwords():
    env = dict(
        os.environ,
        CRS_CHANNELS_IMAP_URLS="imap://care%40brand.test:imap-pass-1@imap.brand.test:143/INBOX,"
        "imaps://sales:imap-pass-2@imap.brand.test/Support",
        CRS_SMTP_URL="smtp://relay-user:relay-pass@relay.brand.test:587",
    )
    rows = listed(env)
    assert rows["CRS_CHANNELS_IMAP_URLS"] == (
        "imap://care%40brand.test:***@imap.brand.test:143/INBOX,imaps://sales:***@imap.brand.test/Support"
    )
    assert rows["CRS_SMTP_URL"] == "smtp://relay-user:***@relay.brand.test:587"
    assert rows["CRS_CHANNELS_IMAP_STALE_SECONDS"] == "900.0"
