"""Staff mail end to end: insights and channels as processes on real PostgreSQL and RabbitMQ, the mail
read back from channels' development sink. A new alert is one email to each QA stakeholder; the weekly
digest is one PDF per stakeholder list, mailed once however often it is asked for or the schedule fires,
and the PDF's text holds the week's figures."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from crs.insights.v1 import insights_pb2, insights_pb2_grpc, staff_pb2, staff_pb2_grpc
from pypdf import PdfReader

from services.insights import digest_pdf
from services.insights.channels_client import ChannelsNotices
from services.insights.domain.staff import iso_week, week_days
from services.insights.service import Insights
from services.insights.staff_mail import StaffMail
from services.insights.staff_store import SqlStaffStore
from services.insights.store import SqlStore
from services.runtime import bus, grpcio
from services.runtime.db import open_pool
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.support import infra
from tests.support import insights_scenario as scenario
from tests.support.mail_sink import all_mail, channels_with_sink, secure_as
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import async_wait_for

ADA, QUINN = Principal("ada", "admin").metadata(), Principal("quinn", "analyst").metadata()
TODAY = date.today()
PEOPLE = (("quinn@qa.example", "qa", "Quinn"), ("lee@legal.example", "legal", "Lee"),
          ("lou@legal.example", "legal", "Lou"))  # fmt: skip


@pytest.fixture(scope="module")
def database():
    with infra.migrated_database("crs_staffmail") as url:
        yield url


@pytest.fixture(scope="module")
def vhost():
    with infra.own_vhost("crs-staffmail") as url:
        yield url


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    return tmp_path_factory.mktemp("staff-sink")


@pytest.fixture(scope="module")
def channels(service_env, database, vhost, sink):
    with channels_with_sink(dict(service_env, CRS_DATABASE_URL=database, CRS_AMQP_URL=vhost), sink) as (
        target,
        _,
    ):
        yield target


@pytest.fixture(scope="module")
def insights(service_env, database, vhost, channels):
    port = free_port()
    env = dict(
        service_env,
        CRS_DATABASE_URL=database,
        CRS_AMQP_URL=vhost,
        CRS_INSIGHTS_GRPC=f"127.0.0.1:{port}",
        CRS_CHANNELS_GRPC=channels,
        CRS_INSIGHTS_RECOMPUTE_SECONDS="5",
        CRS_INSIGHTS_STAFF_MAIL_SECONDS="0.3",
        CRS_INSIGHTS_THEMES_EMBEDDER="tfidf",
        CRS_INSIGHTS_CONSOLE_URL="https://crs.example",
        CRS_PRINCIPAL_ISSUERS="console,cli",
    )
    service = ServiceProcess("services.insights", env).start(wait_port=port)
    yield env
    assert service.stop() == 0, service.output()


def crs(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def staff_mail_rows(database: str, prefix: str) -> list[tuple]:
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute(
            "SELECT key, sent_at IS NOT NULL, recipients, last_error FROM insights.staff_mail WHERE key LIKE %s ORDER BY key",
            (f"{prefix}%",),
        ).fetchall()


def notices_unsent(database: str) -> list[tuple]:
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute(
            "SELECT idempotency_key, delivery, last_error FROM channels.notice WHERE delivery <> 'sent'"
        ).fetchall()


async def settled(database: str, prefix: str):
    """The staff mail of `prefix` once every row is sent and channels has handed every notice on."""

    async def done():
        rows = staff_mail_rows(database, prefix)
        return rows if rows and all(r[1] for r in rows) and not notices_unsent(database) else None

    return await async_wait_for(done, timeout=60, interval=0.3, what=f"the {prefix} mail sent")


@pytest.fixture(scope="module")
async def loaded(insights, vhost, tmp_path_factory):
    """The stakeholder lists, the scenario's sales and contacts, and its alerts raised."""
    channel = grpcio.channel(insights["CRS_INSIGHTS_GRPC"])
    try:
        staff = staff_pb2_grpc.StaffStub(channel)
        for email, role, name in PEOPLE:
            await staff.PutStakeholder(staff_pb2.Stakeholder(email=email, role=role, name=name), metadata=ADA,
                                       timeout=10)  # fmt: skip
        sales = tmp_path_factory.mktemp("sales") / "pos.csv"
        sales.write_text(scenario.sales_csv(TODAY))
        assert crs(insights, "sales", "import", str(sales), "--as", "quinn").returncode == 0
        connection = await bus.connect(vhost)
        try:
            publisher = await bus.Publisher(connection, "contacts").open()
            for case in scenario.cases(TODAY):
                await publisher.publish(Event(source="contacts", type="contact_created", data={"case": case}))
        finally:
            await connection.close()
        stub = insights_pb2_grpc.InsightsStub(channel)

        async def raised():
            found = await stub.ListAlerts(insights_pb2.ListAlertsRequest(), metadata=QUINN, timeout=10)
            return list(found.alerts) if any(a.lot_code == "L3" for a in found.alerts) else None

        yield await async_wait_for(raised, timeout=60, interval=0.5, what="the scenario's alerts")
    finally:
        await channel.close()


async def test_a_new_alert_is_one_email_to_quality_assurance(loaded, database, sink):
    rows = await settled(database, "alert:")
    assert [note for *_, note in rows] == [""] * len(loaded)  # nothing refused
    assert sorted(key for key, *_ in rows) == sorted(f"alert:{a.id}" for a in loaded)
    mail = [m for m in all_mail(sink) if str(m["Subject"]).strip().startswith("New alert")]
    assert sorted(str(m["To"]) for m in mail) == ["quinn@qa.example"] * len(loaded)
    lot = next(a for a in loaded if a.lot_code == "L3")
    [about_lot] = [m for m in mail if f"#alert-{lot.id}" in m.get_body(("plain",)).get_content()]
    body = about_lot.get_body(("plain",)).get_content()
    assert "Product:   OAT-500 (lot L3)" in body and "Method:    lot_poisson_bh" in body
    assert f"https://crs.example/insights/alerts#alert-{lot.id}" in body
    assert about_lot["X-CRS-Purpose"] == "service"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def week_contacts(week: str) -> int:
    start, end = week_days(week)
    return sum(1 for c in scenario.cases(TODAY) if start <= date.fromisoformat(c["occurred_at"][:10]) <= end)


async def test_the_digest_is_one_pdf_per_list_sent_once_and_holds_the_weeks_figures(
    loaded, insights, database, sink, tmp_path
):
    week = iso_week(TODAY)
    out = tmp_path / "digest.pdf"
    written = crs(insights, "insights", "digest", "--week", week, "--out", str(out), "--as", "quinn")
    assert written.returncode == 0, written.stderr
    text = pdf_text(out.read_bytes())
    start, end = week_days(week)
    assert f"Contacts received {start} to {end}: {week_contacts(week)}" in text
    assert "OAT-500" in text and "lot_poisson_bh" in text  # this week's alerts

    first = crs(insights, "insights", "digest", "--week", week, "--send", "--as", "quinn")
    again = crs(insights, "insights", "digest", "--week", week, "--send", "--as", "quinn")
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert "not sent again" in again.stdout and "not sent again" not in first.stdout
    rows = await settled(database, f"digest:{week}:")
    assert [(k, r) for k, _, r, _ in rows] == [(f"digest:{week}:legal", 2), (f"digest:{week}:marketing", 0),
                                            (f"digest:{week}:qa", 1)]  # fmt: skip
    mine = [m for m in all_mail(sink) if str(m["Subject"]) == f"Consumer affairs weekly digest {week}"]
    assert sorted(str(m["To"]) for m in mine) == sorted(e for e, role, _ in PEOPLE)
    for m in mine:
        [pdf] = list(m.iter_attachments())
        audience = "qa" if str(m["To"]) == "quinn@qa.example" else "legal"
        assert pdf.get_filename() == f"digest-{week}-{audience}.pdf"
        text = pdf_text(pdf.get_content())
        assert f"Contacts received {start} to {end}: {week_contacts(week)}" in text
        assert ("For Quality assurance" if audience == "qa" else "For Legal") in text


async def test_the_schedule_firing_twice_and_restarted_mails_the_week_once(loaded, database, channels, sink):
    """Two schedules (a restart, or a second replica) on the Monday after the week, each firing twice."""
    # Three weeks back: the service's own schedule claims last week's (or, early on a Monday, the one before).
    week = iso_week(TODAY - timedelta(days=21))
    monday = datetime.combine(week_days(week)[1] + timedelta(days=1), datetime.min.time(), UTC)
    pool = await open_pool(database, schema="insights", max_size=3)
    channel = secure_as("insights", channels)
    try:
        schedules = [
            StaffMail(SqlStaffStore(pool), Insights(SqlStore(pool)), ChannelsNotices(channel, deadline=10),
                      digest_pdf.render, console_url="https://crs.example", clock=lambda: monday + timedelta(hours=7))
            for _ in range(2)
        ]  # fmt: skip
        await asyncio.gather(*(s.tick() for s in schedules for _ in range(2)))
        rows = await settled(database, f"digest:{week}:")
        assert [r for _, _, r, _ in rows] == [2, 0, 1]
        mine = [m for m in all_mail(sink) if str(m["Subject"]) == f"Consumer affairs weekly digest {week}"]
        assert sorted(str(m["To"]) for m in mine) == sorted(e for e, _, _ in PEOPLE)
        text = pdf_text(next(iter(mine[0].iter_attachments())).get_content())
        assert (
            f"Contacts received {week_days(week)[0]} to {week_days(week)[1]}: {week_contacts(week)}" in text
        )
    finally:
        await channel.close()
        await pool.close()


async def test_a_regulatory_warning_delivered_twice_is_one_email_to_each_address_of_the_regime(
    loaded, vhost, database, sink
):
    warning = {
        "contact_id": "c-7", "reference": "7007", "issue_code": "adverse_event.serious",
        "notify": ["legal@regs.example", "counsel@regs.example"], "assignee": "ada",
        "clock": {"regime_name": "FDA MedWatch", "authority": "FDA", "form": "MedWatch 3500A",
                  "deadline": "15 business days", "due_at": "2026-12-20T17:00:00Z", "state": "warning"},
    }  # fmt: skip
    event = Event(source="contacts", type="regulatory_deadline_near", data=warning)
    connection = await bus.connect(vhost)
    try:
        publisher = await bus.Publisher(connection, "contacts").open()
        await publisher.publish(event)
        await publisher.publish(event)  # the bus delivering it again
    finally:
        await connection.close()
    [(key, _, recipients, note)] = await settled(database, "regulatory:")
    assert (key, recipients, note) == (f"regulatory:{event.id}", 2, "")
    mine = [m for m in all_mail(sink) if str(m["Subject"]).strip().startswith("Regulatory report due")]
    assert sorted(str(m["To"]) for m in mine) == ["counsel@regs.example", "legal@regs.example"]
    body = mine[0].get_body(("plain",)).get_content()
    assert "Case:      7007" in body and "https://crs.example/cases/view?id=c-7" in body
