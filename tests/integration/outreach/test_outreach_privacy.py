"""Outreach's Privacy API with outreach serving in this process on real PostgreSQL: the consumer's email,
consent, campaign recipient row, survey and its answer, purchases, reorder reminder and shipping notice are
exported, then erased once per erasure id (asked again, the same answer and nothing more), while the
campaign's count of recipients stays true and another consumer's rows stay."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from crs.common.v1 import privacy_pb2 as pb
from crs.outreach.v1 import privacy_pb2_grpc

from services.outreach.consent import Change
from services.outreach.consumers import ConsumerRow
from services.outreach.consumers_store import ConsumerStore

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
KINDS = ("consumers", "consents", "campaign_recipients", "surveys", "survey_answers", "purchases",
         "reorder_reminders", "shipping_notices")  # fmt: skip


@pytest.fixture(scope="module")
def outreach(outreach_api):
    channel, pool = outreach_api
    return privacy_pb2_grpc.PrivacyStub(channel), ConsumerStore(pool)


async def a_consumer_everywhere(consumers: ConsumerStore, database_url: str, campaign_id: str) -> str:
    """A consumer with a row of every kind outreach holds, made through the stores and the tables."""
    who = str(uuid.uuid4())
    await consumers.take(ConsumerRow(who, f"{who[:8]}@example.org", "en", "Europe/London", "GB-ENG", NOW))
    await consumers.change(Change(who, "marketing", "email", True, "web_form", "service:test", NOW))
    survey = f"s-{who}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO outreach.campaign_recipient (campaign_id, consumer_id, email, status)"
            " VALUES (%s, %s, %s, 'sent')",
            (campaign_id, who, f"{who[:8]}@example.org"),
        )
        conn.execute(
            "INSERT INTO outreach.survey (id, fire_key, rule_id, kind, case_id, consumer_id, language, team,"
            " agent, channel, triggered_at, send_at, sent_at) VALUES (%s, %s, 'csat', 'csat', 'c1', %s, 'en',"
            " 'care', 'ada', 'phone', %s, %s, %s)",
            (survey, f"csat:{who}", who, NOW, NOW, NOW),
        )
        conn.execute(
            "INSERT INTO outreach.survey_answer (id, survey_id, score, scores, comment, answered_at)"
            " VALUES (%s, %s, 4, '[4]', 'my neighbour Jo agrees', %s)",
            (f"a-{who}", survey, NOW),
        )
        conn.execute(
            "INSERT INTO outreach.purchase (order_id, sku, consumer_id, ordered_at) VALUES (%s, 'OAT-1KG', %s, %s)",
            (f"o-{who}", who, NOW),
        )
        conn.execute(
            "INSERT INTO outreach.reorder_reminder (key, consumer_id, sku, last_order_at, expected_at, remind_at)"
            " VALUES (%s, %s, 'OAT-1KG', %s, %s, %s)",
            (f"reorder:{who}", who, NOW, NOW, NOW),
        )
        conn.execute(
            "INSERT INTO outreach.shipping_notice (fulfillment_id, state, journey, consumer_id, occurred_at)"
            " VALUES (%s, 'shipped', 1, %s, %s)",
            (f"f-{who}", who, NOW),
        )
    return who


async def exported(privacy, who: str) -> dict:
    reply = await privacy.ExportConsumer(pb.ExportConsumerRequest(consumer=pb.ConsumerKeys(consumer_id=who)))
    assert reply.service == "outreach"
    return json.loads(reply.data_json)


async def test_erasing_a_consumer_removes_their_rows_from_outreach_once_per_erasure_id(
    outreach, database_url
):
    privacy, consumers = outreach
    campaign_id = str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO outreach.campaign (id, kind, name, subject, body, created_by)"
            " VALUES (%s, 'marketing', %s, 'Spring', 'Hello', 'sam')",
            (campaign_id, f"privacy {campaign_id}"),
        )
    gone = await a_consumer_everywhere(consumers, database_url, campaign_id)
    stays = await a_consumer_everywhere(consumers, database_url, campaign_id)

    before = await exported(privacy, gone)
    assert {kind: len(before[kind]) for kind in KINDS} == dict.fromkeys(KINDS, 1)
    assert before["consumers"][0]["email"] == f"{gone[:8]}@example.org"
    assert before["survey_answers"][0]["comment"] == "my neighbour Jo agrees"

    keys, erasure_id = pb.ConsumerKeys(consumer_id=gone), str(uuid.uuid4())
    erased = await privacy.EraseConsumer(pb.EraseConsumerRequest(consumer=keys, erasure_id=erasure_id))
    assert erased.service == "outreach"
    counts = {k: v for k, v in erased.erased.items() if k != "outbox_events"}
    assert counts == {
        "consumers": 1, "consents": 1, "surveys": 1, "survey_answers": 1, "purchases": 1,
        "purchase_facts": 0, "reorder_reminders": 1, "shipping_notices": 1,
        "campaign_recipients_unlinked": 1, "contact_facts_unlinked": 0,
    }  # fmt: skip
    after = await exported(privacy, gone)
    assert all(rows == [] for rows in after.values()), after
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert not conn.execute(
            "SELECT 1 FROM outreach.campaign_recipient WHERE email = %s", (f"{gone[:8]}@example.org",)
        ).fetchone()
        [(recipients,)] = conn.execute(
            "SELECT count(*) FROM outreach.campaign_recipient WHERE campaign_id = %s", (campaign_id,)
        ).fetchall()
    assert recipients == 2  # the campaign's tally stays true

    # The consumer's id again (a new consumer by that id) is not touched by the same erasure asked again.
    await consumers.take(ConsumerRow(gone, "back@example.org", "en", "UTC", "", NOW))
    again = await privacy.EraseConsumer(pb.EraseConsumerRequest(consumer=keys, erasure_id=erasure_id))
    assert dict(again.erased) == dict(erased.erased) and again.erased_at == erased.erased_at
    assert [row["email"] for row in (await exported(privacy, gone))["consumers"]] == ["back@example.org"]

    untouched = await exported(privacy, stays)
    assert {kind: len(untouched[kind]) for kind in KINDS} == dict.fromkeys(KINDS, 1)
