"""The operational reports end to end: cases captured and worked through casework's own gRPC API (so the
events are casework's, on its outbox and exchange), survey answers published on `outreach.events` as
outreach publishes them, both carried by RabbitMQ into a running insights, and the reports read over
gRPC by a supervisor, refused to an agent."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import grpc
import pytest
from crs.contacts.v1 import casework_pb2 as cpb
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.contacts.__main__ import Settings
from services.contacts.__main__ import serve as serve_contacts
from services.contacts.casework.wiring import CaseworkSettings
from services.contacts.privacy.wiring import REMOTE_SERVICES, PrivacySettings
from services.insights.__main__ import serve as serve_insights
from services.runtime import bus, grpcio
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.integration.contacts.case_support import Caller
from tests.support import infra
from tests.support import reports_scenario as floor
from tests.support.wait import async_wait_for

SAM = Principal("sam", "supervisor").metadata()


@pytest.fixture(scope="module")
def reports_db():
    """Its own database and vhost: the reports count every case insights is told of."""
    with infra.migrated_database("crs_insights_reports") as url:
        yield url


@pytest.fixture(scope="module")
def reports_vhost():
    with infra.own_vhost("crs-insights-reports") as url:
        yield url


@pytest.fixture(scope="module")
async def running(reports_db, reports_vhost):
    with pytest.MonkeyPatch.context() as env:
        # `crs ... --as USER` acts for a person from the "cli" identity; this insights trusts it to.
        env.setenv("CRS_PRINCIPAL_ISSUERS", "console,cli")
        async for started in _started(reports_db, reports_vhost):
            yield started


async def _started(reports_db, reports_vhost):
    stop = asyncio.Event()
    contacts_ready = asyncio.get_running_loop().create_future()
    insights_ready = asyncio.get_running_loop().create_future()
    settings = Settings(
        database_url=reports_db,
        amqp_url=reports_vhost,
        home_region="US",
        grpc_bind="127.0.0.1:0",
        http_bind="127.0.0.1:0",
        casework=CaseworkSettings(sla_sweep_seconds=30.0),
        privacy=PrivacySettings(
            targets=dict.fromkeys(REMOTE_SERVICES, "127.0.0.1:9"),
            retry_seconds=3600.0,
            sweep_seconds=0,
        ),
    )
    tasks = [
        asyncio.create_task(serve_contacts(settings, stop, contacts_ready.set_result)),
        asyncio.create_task(
            serve_insights(
                stop,
                database_url=reports_db,
                amqp_url=reports_vhost,
                bind="127.0.0.1:0",
                on_ready=insights_ready.set_result,
            )
        ),
    ]
    bound = await asyncio.wait_for(asyncio.shield(contacts_ready), 30)
    insights_port = await asyncio.wait_for(asyncio.shield(insights_ready), 30)
    contacts_channel = grpcio.channel(f"127.0.0.1:{bound.grpc_port}")
    insights_channel = grpcio.channel(f"127.0.0.1:{insights_port}", default_deadline=30)
    try:
        yield contacts_channel, insights_pb2_grpc.InsightsStub(insights_channel), insights_port
    finally:
        await contacts_channel.close()
        await insights_channel.close()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


def table(report: pb.Report) -> dict[str, dict]:
    return {
        r.key: {c: (None if v != v else v) for c, v in zip(report.columns, r.values, strict=True)}
        for r in report.rows
    }


async def test_case_events_and_survey_answers_make_the_reports(running, reports_vhost):
    contacts_channel, insights, _ = running
    alice = Caller(contacts_channel, "alice", extension="1001", team="north")
    sam = Caller(contacts_channel, "sam", "supervisor", team="north", team_extensions=frozenset({"1001"}))
    # One taken and resolved at once (first-contact resolution), one worked then resolved, one
    # escalated and left open, one by email still new.
    on_the_call = await alice.capture(issue_code="complaint.quality.foreign_object.plastic")
    await alice.ChangeStatus(cpb.ChangeStatusRequest(id=on_the_call.id, status="resolved"))
    worked = await alice.capture(issue_code="complaint.quality.foreign_object.plastic")
    await alice.ChangeStatus(cpb.ChangeStatusRequest(id=worked.id, status="in_progress"))
    await alice.ChangeStatus(cpb.ChangeStatusRequest(id=worked.id, status="resolved"))
    escalated = await alice.capture(issue_code="complaint.quality.foreign_object.plastic")
    await alice.Escalate(cpb.EscalateRequest(id=escalated.id, reason="a child was hurt"))
    await sam.capture(issue_code="complaint.packaging.damaged", channel="email")

    connection = await bus.connect(reports_vhost)
    try:
        outreach = await bus.Publisher(connection, "outreach").open()
        now = datetime.now(UTC)
        rated = {"id": on_the_call.id, "consumer_id": "", "team": "north", "assignee": "alice",
                 "channel": "phone"}  # fmt: skip
        for kind, score in (("csat", 5), ("csat", 2), ("nps", 10), ("nps", 3), ("nps", 8)):
            data = floor.answer(rated, kind, score, now)
            await outreach.publish(Event(source="outreach", type="survey_answered", data=data))
    finally:
        await connection.close()

    async def every_case_and_answer():
        backlog = await insights.GetReport(pb.GetReportRequest(name="backlog"), metadata=SAM)
        nps = await insights.GetReport(pb.GetReportRequest(name="nps"), metadata=SAM)
        fcr = await insights.GetReport(pb.GetReportRequest(name="first-contact-resolution"), metadata=SAM)
        done = (
            table(backlog)["(all)"]["open"] == 2
            and table(nps)["(all)"]["answers"] == 3
            and table(fcr)["(all)"]["resolved"] == 2
        )
        return done or None

    await async_wait_for(every_case_and_answer, timeout=30, interval=0.2, what="the events in the reports")

    fcr = table(await insights.GetReport(pb.GetReportRequest(name="first-contact-resolution"), metadata=SAM))
    assert fcr["(all)"] == {"resolved": 2, "first_contact": 1, "fcr_pct": 50.0}
    times = await insights.GetReport(
        pb.GetReportRequest(name="response-times", by="channel", since=now.date().isoformat()),
        metadata=SAM,
    )
    by_channel = table(times)
    assert by_channel["phone"]["cases"] == 3 and by_channel["phone"]["resolved"] == 2
    assert by_channel["email"]["answered"] == 0 and by_channel["email"]["first_response_median_h"] is None
    backlog = table(await insights.GetReport(pb.GetReportRequest(name="backlog"), metadata=SAM))
    assert backlog["(all)"]["under_1d"] == 2
    # The team is the capturer's, as casework's case events carry it.
    by_team = table(
        await insights.GetReport(pb.GetReportRequest(name="response-times", by="team"), metadata=SAM)
    )
    assert by_team["north"]["cases"] == 4 and "(none)" not in by_team
    by_agent = table(await insights.GetReport(pb.GetReportRequest(name="csat", by="agent"), metadata=SAM))
    assert by_agent["alice"] == {"answers": 2, "satisfied": 1, "csat_pct": 50.0, "mean_score": 3.5}
    nps = table(await insights.GetReport(pb.GetReportRequest(name="nps", by="issue"), metadata=SAM))
    assert nps["complaint.quality"] == {"answers": 3, "promoters": 1, "passives": 1, "detractors": 1,
                                        "nps": 0.0}  # fmt: skip

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await insights.GetReport(
            pb.GetReportRequest(name="csat"), metadata=Principal("ada", "agent").metadata()
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await insights.GetReport(pb.GetReportRequest(name="csat", by="consumer"), metadata=SAM)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "by: one of team, agent, channel, issue" in refused.value.details()


async def test_the_cli_prints_a_report_as_csv_json_or_a_table(running, service_env):
    """Runs after the test above, on the cases and answers it left."""
    _, _, port = running

    def crs(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "services.cli.main", "insights", "report", *args,
             "--target", f"127.0.0.1:{port}", "--as", "sam", "--role", "supervisor"],
            env=service_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    as_csv = await asyncio.to_thread(crs, "csat", "--by", "agent", "--csv")
    assert as_csv.returncode == 0, as_csv.stderr
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["agent", "answers", "satisfied", "csat_pct", "mean_score"],
        ["alice", "2", "1", "50", "3.5"],
        ["(all)", "2", "1", "50", "3.5"],
    ]
    as_json = await asyncio.to_thread(crs, "first-contact-resolution", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["rows"] == [
        {"group": "(all)", "resolved": 2, "first_contact": 1, "fcr_pct": 50.0}
    ]
    shown = await asyncio.to_thread(crs, "response-times", "--by", "channel")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "Time to first response and to resolution (hours)"
    assert lines[1].split() == ["channel", "cases", "answered", "first_response_median_h",
                                "first_response_p90_h", "resolved", "resolution_median_h",
                                "resolution_p90_h"]  # fmt: skip
    assert lines[2].split()[:3] == ["email", "1", "0"]
    refused = await asyncio.to_thread(crs, "nps", "--by", "colour")
    assert refused.returncode == 2 and "invalid choice: 'colour'" in refused.stderr
