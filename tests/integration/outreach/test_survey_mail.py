"""A survey rule through the outreach process, channels and the mail sink (real PostgreSQL, RabbitMQ and
channels), on an injected clock: a complaint resolved (the event given twice) is one CSAT email two days
later, in the consumer's language; its one-click link records the rating; a second complaint resolved
within 30 days is no second email, and one after 30 days is.

The survey rules, the suppression window and the page are tested in test_survey_store.py and
test_survey_page_browser.py; this is the mail path between them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import psycopg
from aiohttp.test_utils import TestServer

from services.outreach.consumers_store import ConsumerStore
from services.outreach.survey_rules import rule_from_input
from services.outreach.survey_store import SurveyStore
from services.runtime import bus
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.support.outreach_mail import outreach_running, sink_mail
from tests.support.survey_harness import SECRET, Clock, Outlets, desk_over, survey_app
from tests.support.wait import async_wait_for

PUBLIC = "http://survey.test"
RULE = {"id": "complaint-csat", "kind": "csat", "issue_prefix": "complaint", "delay_minutes": 2880,
        "suppress_days": 30}  # fmt: skip


def resolved(case_id: str, consumer_id: str, at: datetime) -> Event:
    case = {"id": case_id, "consumer_id": consumer_id, "issue_code": "complaint.taste", "language": "es",
            "team": "team-a", "assignee": "agent-1", "channel": "phone"}  # fmt: skip
    return Event(source="contacts", type="contact_resolved", data={"case": case}, time=at)


def known(consumer_id: str, address: str) -> Event:
    consumer = {"id": consumer_id, "language": "es", "emails": [{"address": address}]}
    return Event(source="contacts", type="consumer_created", data={"consumer": consumer})


def score_link(mail, score: int) -> str:
    """The path of the one-click link for `score` in the email's text."""
    return re.search(rf"^{score}: {PUBLIC}(/s/\S+)$", mail.get_body(("plain",)).get_content(), re.M).group(1)


def answered(database_url: str, case_id: str) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT a.score FROM outreach.survey_answer a JOIN outreach.survey s ON s.id = a.survey_id"
            " WHERE s.case_id = %s",
            (case_id,),
        ).fetchall()


async def test_a_survey_rule_fires_once_its_one_click_rating_counts_and_thirty_days_suppress(mail_path):
    run, ana, marker = uuid.uuid4().hex[:8], str(uuid.uuid4()), str(uuid.uuid4())
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    env = dict(mail_path.env, CRS_OUTREACH_SURVEY_SWEEP_SECONDS="0.2", CRS_OUTREACH_LINK_SECRET=SECRET.decode(),
               CRS_PUBLIC_URL=PUBLIC)  # fmt: skip
    connection = await bus.connect(env["CRS_AMQP_URL"])
    pool = await open_pool(mail_path.database_url, schema="outreach", max_size=2)
    store, outlets = SurveyStore(pool), Outlets()
    page = TestServer(survey_app(desk_over(store, clock, outlets)), host="127.0.0.1")
    await page.start_server()
    sink = mail_path.sink

    async def mailed(address_run: str, count: int):
        async def enough():
            mail = sink_mail(sink, address_run)
            return mail if len(mail) >= count else None

        return await async_wait_for(enough, timeout=30, what=f"{count} survey emails to {address_run}")

    try:
        await store.put_rule(rule_from_input(RULE), actor="admin")
        async with outreach_running(env, mail_path.channels, clock=clock):
            contacts = await bus.Publisher(connection, "contacts").open()
            for who, name in ((ana, f"ana-{run}"), (marker, f"mo-{run}m")):
                await contacts.publish(known(who, f"{name}@example.org"))
            await async_wait_for(lambda: ConsumerStore(pool).of([ana, marker]), timeout=20, what="consumers")
            first = resolved(str(uuid.uuid4()), ana, clock())
            await contacts.publish(first)
            await contacts.publish(first)  # redelivered: the rule fires once
            await async_wait_for(
                lambda: store.survey_id_for(f"survey:complaint-csat:{first.data['case']['id']}"),
                timeout=20,
                what="the survey planned",
            )
            clock.advance(timedelta(days=2, minutes=1))
            [mail] = await mailed(run, 1)
            assert (mail["Subject"], mail["Content-Language"]) == ("¿Qué tal lo hicimos? Un clic basta", "es")
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

            async with aiohttp.ClientSession() as http, http.get(page.make_url(score_link(mail, 4))) as reply:
                assert reply.status == 200
            assert answered(mail_path.database_url, first.data["case"]["id"]) == [(4,)]

            # Five days on, another complaint resolved: suppressed. The marker consumer's survey, resolved
            # at the same time, shows the sweep has run past it.
            clock.advance(timedelta(days=3))
            await contacts.publish(resolved(str(uuid.uuid4()), ana, clock()))
            await contacts.publish(resolved(str(uuid.uuid4()), marker, clock()))
            clock.advance(timedelta(days=2, minutes=1))
            await mailed(f"{run}m", 1)
            assert len(sink_mail(sink, run)) == 1

            # Thirty days after the first email, a complaint resolved is surveyed again.
            clock.advance(timedelta(days=25))
            await contacts.publish(resolved(str(uuid.uuid4()), ana, clock()))
            clock.advance(timedelta(days=2, minutes=1))
            assert len(await mailed(run, 2)) == 2
    finally:
        await page.close()
        await pool.close()
        await connection.close()
