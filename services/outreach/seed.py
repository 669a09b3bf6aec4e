"""`crs seed --demo` for outreach: the demo consumers in outreach's consumer read model (their address,
language and time zone, as contacts' consumer events would bring them; consent takes its defaults: service
messages, surveys and recall notices yes, marketing no), and the demo survey rule: a complaint resolved is
a CSAT survey two minutes later, so `make run` shows it in the mail sink without a two-day wait.

The consumer ids are `crs seed`'s derived ids, the names and addresses contacts' demo list: outreach reads
no other service's tables. Running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.cli.seed import consumer_id
from services.contacts.seed import DEMO
from services.outreach.consumers import language_of, zone_of
from services.outreach.survey_rules import rule_from_input
from services.outreach.survey_store import RULE_COLUMNS, rule_row
from services.runtime.db import connect

SCHEMA = "outreach"
DEMO_RULE = rule_from_input(
    {"id": "demo-complaint-csat", "name": "Complaint resolved: CSAT", "kind": "csat",
     "issue_prefix": "complaint", "delay_minutes": 2, "suppress_days": 30}
)  # fmt: skip


def demo_consumers() -> list[tuple[str, str, str, str, str]]:
    """(consumer_id, email, language, time zone, region) of each demo consumer, in contacts' order."""
    rows = []
    for index, (_, language, _, emails) in enumerate(DEMO):
        region = language.split("-")[1].upper() if "-" in language else ""
        rows.append(
            (consumer_id(index), emails[0] if emails else "", language_of(language), zone_of(region), region)
        )
    return rows


def seed_demo(database_url: str) -> None:
    now = datetime.now(UTC)
    with connect(database_url, schema=SCHEMA) as conn, conn.cursor() as cur:
        for row in demo_consumers():
            cur.execute(
                "INSERT INTO consumer (consumer_id, email, language, time_zone, region, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (consumer_id) DO NOTHING",
                (*row, now),
            )
        placeholders = ", ".join(["%s"] * (len(RULE_COLUMNS) + 1))
        cur.execute(
            f"INSERT INTO survey_rule ({', '.join(RULE_COLUMNS)}, updated_by, updated_at)"
            f" VALUES ({placeholders}, now()) ON CONFLICT (id) DO NOTHING",
            (*rule_row(DEMO_RULE), "seed"),
        )
