"""A survey answer end to end, on real PostgreSQL, RabbitMQ and channels' mail sink: a consumer's complaint
captured and resolved through casework's gRPC is a CSAT email from the outreach process; the one-click
rating in it, followed through the console's public survey page (over outreach's SurveyAnswers gRPC, as the
console itself), is recorded; `survey_answered` leaves outreach's outbox, reaches a running insights, and
the CSAT report read over insights' gRPC counts it; the case's timeline carries the note outreach put on it
through casework."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from crs.contacts.v1 import casework_pb2 as cpb
from crs.contacts.v1 import contacts_pb2
from crs.contacts.v1.contacts_pb2_grpc import ContactsStub
from crs.insights.v1 import insights_pb2 as ipb
from crs.insights.v1 import insights_pb2_grpc

from services.console import survey_web
from services.console.clients import Clients
from services.console.routes import survey_answers
from services.contacts.__main__ import Settings
from services.contacts.__main__ import serve as serve_contacts
from services.contacts.casework.wiring import CaseworkSettings
from services.contacts.privacy.wiring import REMOTE_SERVICES, PrivacySettings
from services.insights.__main__ import serve as serve_insights
from services.outreach.survey_rules import rule_from_input
from services.outreach.survey_store import SurveyStore
from services.runtime import grpcio
from services.runtime.db import open_pool
from services.runtime.principal import Principal
from tests.integration.contacts.case_support import Caller
from tests.support.outreach_mail import outreach_running, sink_mail
from tests.support.processes import free_port
from tests.support.survey_harness import SECRET, Clock
from tests.support.wait import async_wait_for

PUBLIC = "http://survey.test"
SAM = Principal("sam", "supervisor").metadata()
ALICE = Principal("alice", "agent", extension="1001", team="north").metadata()
UNUSED = "127.0.0.1:9"


@contextmanager
def identity(name: str):
    """Channels made inside are `name`'s: its certificate is the one they present."""
    saved = os.environ.get("CRS_TLS_IDENTITY")
    os.environ["CRS_TLS_IDENTITY"] = name
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CRS_TLS_IDENTITY")
        else:
            os.environ["CRS_TLS_IDENTITY"] = saved


@pytest.fixture
async def contacts_and_insights(mail_path):
    """Contacts and insights in this loop, over the mail path's database and vhost: their gRPC targets."""
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    contacts_ready, insights_ready = loop.create_future(), loop.create_future()
    env = mail_path.env
    settings = Settings(
        database_url=env["CRS_DATABASE_URL"],
        amqp_url=env["CRS_AMQP_URL"],
        home_region="US",
        grpc_bind="127.0.0.1:0",
        http_bind="127.0.0.1:0",
        casework=CaseworkSettings(sla_sweep_seconds=30.0),
        privacy=PrivacySettings(
            targets=dict.fromkeys(REMOTE_SERVICES, UNUSED),
            retry_seconds=3600.0,
            sweep_seconds=0,
        ),
    )
    with pytest.MonkeyPatch.context() as patch:
        # The test acts for agents and a supervisor from the "cli" identity; these services trust it to.
        patch.setenv("CRS_PRINCIPAL_ISSUERS", "console,cli")
        tasks = [
            asyncio.create_task(serve_contacts(settings, stop, contacts_ready.set_result)),
            asyncio.create_task(
                serve_insights(
                    stop,
                    database_url=env["CRS_DATABASE_URL"],
                    amqp_url=env["CRS_AMQP_URL"],
                    bind="127.0.0.1:0",
                    on_ready=insights_ready.set_result,
                )
            ),
        ]
        try:
            contacts = await asyncio.wait_for(asyncio.shield(contacts_ready), 30)
            insights = await asyncio.wait_for(asyncio.shield(insights_ready), 30)
            yield f"127.0.0.1:{contacts.grpc_port}", f"127.0.0.1:{insights}"
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)


def survey_page(outreach: str) -> web.Application:
    """The console's survey area over its own gRPC clients, calling outreach as the console."""
    with identity("console"):
        clients = Clients(contacts=UNUSED, billing=UNUSED, fulfillment=UNUSED, screenpop=UNUSED,
                          telephony=UNUSED, knowledge=UNUSED, deadline=10.0, outreach=outreach)  # fmt: skip
    app = web.Application()
    app[survey_web.DESK] = survey_answers.OutreachSurveys(clients)
    app.add_routes(survey_answers.routes)
    app.on_cleanup.append(lambda _: clients.close())
    return app


def csat(report: ipb.Report) -> dict[str, dict]:
    return {row.key: dict(zip(report.columns, row.values, strict=True)) for row in report.rows}


async def test_the_emailed_rating_is_recorded_reported_and_noted_on_the_case(
    mail_path, contacts_and_insights
):
    contacts_target, insights_target = contacts_and_insights
    run, clock = uuid.uuid4().hex[:8], Clock(datetime.now(UTC).replace(microsecond=0))
    outreach = f"127.0.0.1:{free_port()}"
    env = dict(mail_path.env, CRS_OUTREACH_SURVEY_SWEEP_SECONDS="0.2", CRS_OUTREACH_LINK_SECRET=SECRET.decode(),
               CRS_PUBLIC_URL=PUBLIC, CRS_CONTACTS_GRPC=contacts_target, CRS_OUTREACH_GRPC=outreach)  # fmt: skip
    pool = await open_pool(mail_path.database_url, schema="outreach", max_size=2)
    contacts_channel = grpcio.channel(contacts_target)
    insights_channel = grpcio.channel(insights_target, default_deadline=30)
    insights = insights_pb2_grpc.InsightsStub(insights_channel)
    alice = Caller(contacts_channel, "alice", extension="1001", team="north")
    try:
        rule = {"id": f"answers-{run}", "kind": "csat", "issue_prefix": "complaint", "delay_minutes": 0}
        await SurveyStore(pool).put_rule(rule_from_input(rule), actor="admin")
        async with outreach_running(env, mail_path.channels, clock=clock):
            page = TestServer(survey_page(outreach), host="127.0.0.1")
            await page.start_server()
            try:
                email = contacts_pb2.Email(address=f"ana-{run}@example.org")
                ana = await ContactsStub(contacts_channel).CreateConsumer(
                    contacts_pb2.CreateConsumerRequest(
                        consumer=contacts_pb2.Consumer(name="Ana Ruiz", emails=[email])
                    ),
                    metadata=ALICE,
                    timeout=10,
                )
                case = await alice.capture(
                    consumer_id=ana.id, issue_code="complaint.quality.foreign_object.plastic"
                )
                await alice.Assign(cpb.AssignRequest(id=case.id, assignee="alice"))
                await alice.ChangeStatus(cpb.ChangeStatusRequest(id=case.id, status="resolved"))
                await async_wait_for(
                    lambda: SurveyStore(pool).survey_id_for(f"survey:answers-{run}:{case.id}"),
                    timeout=30,
                    what="the survey planned from contact_resolved",
                )
                clock.advance(timedelta(minutes=1))

                async def mailed():
                    return sink_mail(mail_path.sink, run) or None

                [mail] = await async_wait_for(mailed, timeout=30, what="the survey email")
                text = mail.get_body(("plain",)).get_content()
                four = re.search(rf"^4: {PUBLIC}(/s/\S+)$", text, re.M).group(1)
                async with aiohttp.ClientSession() as http:
                    async with http.get(page.make_url(four)) as reply:
                        assert reply.status == 200
                        assert "Your answer has been recorded" in await reply.text()
                    async with http.get(page.make_url(four[:-2] + "xx")) as altered:
                        assert altered.status == 410
                        assert "altered" in await altered.text()

                async def reported():
                    answer = await insights.GetReport(
                        ipb.GetReportRequest(name="csat", by="agent"), metadata=SAM
                    )
                    rows = csat(answer)
                    return rows if rows.get("(all)", {}).get("answers") == 1 else None

                rows = await async_wait_for(
                    reported, timeout=30, interval=0.2, what="the rating in the report"
                )
                assert rows["alice"]["answers"] == 1 and rows["alice"]["mean_score"] == 4.0

                timeline = await alice.GetTimeline(cpb.GetTimelineRequest(id=case.id))
                notes = [(e.actor, e.note) for e in timeline.events if e.kind == "action"]
                assert ("outreach", "CSAT survey answered: 4 of 1-5") in notes
            finally:
                await page.close()
    finally:
        await contacts_channel.close()
        await insights_channel.close()
        await pool.close()
