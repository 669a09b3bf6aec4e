"""Regulatory clocks over gRPC against PostgreSQL and RabbitMQ: a serious adverse event of a dietary
supplement is due 15 business days after it was received (a holiday added as data moves it a day), legal's
warning fires before the deadline on an injected clock, once, and not again after a restart; the report is
marked filed and its form's fields exported; regimes are an admin's to edit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import aio_pika
import grpc
import pytest
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import regulatory_pb2 as rpb
from crs.contacts.v1 import regulatory_pb2_grpc

from services.runtime import db
from services.runtime.principal import Principal
from tests.integration.contacts.case_support import parts_with_clock, sweep_rounds
from tests.support.wait import async_wait_for

ADVERSE_EVENT = "complaint.illness_injury.adverse_event"


class RegulatoryCaller:
    def __init__(self, channel, username: str, role: str):
        self._stub = regulatory_pb2_grpc.RegulatoryStub(channel)
        self._metadata = Principal(username, role).metadata()

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)

        async def call(request):
            return await method(request, metadata=self._metadata, timeout=20)

        return call


@pytest.fixture
def legal(contacts):
    """Sam, the supervisor who files reports with the authority."""
    return RegulatoryCaller(contacts.channel, "sam", "supervisor")


@pytest.fixture
def regimes_admin(contacts):
    return RegulatoryCaller(contacts.channel, "ada-admin", "admin")


def a_monday_a_week_or_two_ago() -> datetime:
    day = datetime.now(UTC).date() - timedelta(days=7)
    day -= timedelta(days=day.weekday())
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def business_days_after(start: datetime, count: int, holidays: set[date]) -> datetime:
    """The oracle, by hand: walk the calendar, counting weekdays that are not holidays."""
    day = start
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day.date() not in holidays:
            count -= 1
    return day


async def a_supplement_adverse_event(agent, received: datetime) -> pb.Case:
    stamp = pb.Case().occurred_at
    stamp.FromDatetime(received)
    return await agent.capture(
        issue_code=ADVERSE_EVENT,
        severity="critical",
        verbatim="After two capsules of the iron supplement my daughter was sick all night.",
        product=pb.Product(sku="SUP-IRON-60", name="Iron 60 capsules", lot_code="L2611"),
        reporter=pb.Reporter(name="Nadia Kerr", phone="+15555550123"),
        occurred_at=stamp,
    )


async def test_a_serious_adverse_event_is_due_in_fifteen_business_days_and_a_holiday_moves_it(
    agent, legal, regimes_admin
):
    received = a_monday_a_week_or_two_ago()
    case = await a_supplement_adverse_event(agent, received)
    holidays = {
        date.fromisoformat(h.day) for h in (await legal.ListHolidays(rpb.ListHolidaysRequest())).holidays
    }
    clock = (await agent.GetCase(pb.GetCaseRequest(id=case.id))).regulatory_clock
    assert (clock.regime, clock.form, clock.deadline) == (
        "fda_medwatch_supplement",
        "MedWatch 3500A",
        "15 business days",
    )
    assert clock.received_at.ToDatetime(tzinfo=UTC) == received
    due = business_days_after(received, 15, holidays)
    assert clock.due_at.ToDatetime(tzinfo=UTC) == due
    assert clock.warn_at.ToDatetime(tzinfo=UTC) < due
    assert clock.state == "on_time"
    # The first business day after it was received becomes a holiday: the report is due a business day later.
    later = (received.date() + timedelta(days=n) for n in range(1, 8))
    plant_day = next(day for day in later if day.weekday() < 5 and day not in holidays)
    await regimes_admin.PutHoliday(
        rpb.PutHolidayRequest(holiday=rpb.Holiday(day=plant_day.isoformat(), name="Plant day"))
    )
    try:
        moved = (await agent.GetCase(pb.GetCaseRequest(id=case.id))).regulatory_clock
        assert moved.due_at.ToDatetime(tzinfo=UTC) == business_days_after(
            received, 15, holidays | {plant_day}
        )
        assert moved.due_at.ToDatetime(tzinfo=UTC) > due
    finally:
        await regimes_admin.PutHoliday(
            rpb.PutHolidayRequest(holiday=rpb.Holiday(day=plant_day.isoformat()), remove=True)
        )

    listed = await agent.SearchCases(pb.SearchCasesRequest(reference=case.reference))
    assert [c.regulatory_clock.due_at for c in listed.cases] == [clock.due_at]


async def test_legal_is_warned_before_the_deadline_once_and_not_again_after_a_restart(
    database_url, amqp_url, agent, legal
):
    connection = await aio_pika.connect_robust(amqp_url)
    pool = await db.open_pool(database_url, schema="contacts")
    channel = await connection.channel()
    exchange = await channel.declare_exchange("contacts.events", aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "regulatory_deadline_near")
    case = await a_supplement_adverse_event(agent, a_monday_a_week_or_two_ago())
    shown = (await agent.GetCase(pb.GetCaseRequest(id=case.id))).regulatory_clock
    warn_at, due = shown.warn_at.ToDatetime(tzinfo=UTC), shown.due_at.ToDatetime(tzinfo=UTC)
    clock = [warn_at - timedelta(minutes=1)]
    parts = parts_with_clock(pool, lambda: clock[0], regulatory_sweep_seconds=0.05)
    restarted = None

    async def ours():
        message = await queue.get(fail=False, timeout=5)
        if message is None:
            return None
        await message.ack()
        data = json.loads(message.body)["data"]
        return data if data["contact_id"] == case.id else "another case"

    async def next_of_ours():
        while (data := await ours()) == "another case":
            pass
        return data

    try:
        parts.start()
        await sweep_rounds(parts.deadline_warnings, 3)
        assert await next_of_ours() is None  # a minute early: no warning yet
        clock[0] = warn_at + timedelta(seconds=5)
        event = await async_wait_for(next_of_ours, timeout=15, what="regulatory_deadline_near on the bus")
        assert event["clock"]["regime"] == "fda_medwatch_supplement"
        assert event["clock"]["state"] == "warning"
        assert datetime.fromisoformat(event["clock"]["due_at"]) == due
        assert event["notify"] == ["legal@example.com"]
        assert int(event["reference"]) == case.reference
        timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))
        assert [e.actor for e in timeline.events if e.kind == "regulatory_warning"] == ["system"]
        await parts.stop()
        restarted = parts_with_clock(pool, lambda: clock[0], regulatory_sweep_seconds=0.05)
        restarted.start()
        clock[0] = due + timedelta(hours=1)  # even past the deadline, the warning is not sent again
        await sweep_rounds(restarted.deadline_warnings, 5)

        async def outbox_drained():
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) FROM outbox WHERE routing_key = 'regulatory_deadline_near'"
                )
                return (await cur.fetchone())[0] == 0

        await async_wait_for(outbox_drained, timeout=15, what="the outbox published")
        assert await next_of_ours() is None, "the warning fired a second time"
        timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))
        assert [e.kind for e in timeline.events].count("regulatory_warning") == 1
    finally:
        await (restarted or parts).stop()
        await pool.close()
        await connection.close()


async def test_the_report_is_marked_filed_once_and_its_form_exported(contacts, agent, legal):
    case = await a_supplement_adverse_event(agent, a_monday_a_week_or_two_ago())
    export = await legal.ExportReport(rpb.ExportReportRequest(case_id=case.id))
    fields = {f.name: f.value for f in export.fields}
    assert [f.name for f in export.fields][:3] == ["reference", "received_at", "report_due_at"]
    assert (fields["product.lot_code"], fields["reporter.name"]) == ("L2611", "Nadia Kerr")
    assert fields["verbatim"].startswith("After two capsules")
    filed = await legal.FileReport(rpb.FileReportRequest(case_id=case.id, reference="MW-5012345"))
    assert filed.regulatory_clock.state == "filed"
    timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))
    (line,) = [e for e in timeline.events if e.kind == "report_filed"]
    assert (line.actor, line.note.startswith("FDA MedWatch 3500A filed")) == ("sam", True)
    assert line.note.endswith("reference MW-5012345")
    assert (filed.regulatory_clock.filing.reported_by, filed.regulatory_clock.filing.reference) == (
        "sam",
        "MW-5012345",
    )
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await legal.FileReport(rpb.FileReportRequest(case_id=case.id, reference="MW-2"))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "sam" in again.value.details()
    quality = RegulatoryCaller(contacts.channel, "quinn", "analyst")
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await quality.ExportReport(rpb.ExportReportRequest(case_id=case.id))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    plastic = await agent.capture()
    with pytest.raises(grpc.aio.AioRpcError) as none:
        await legal.ExportReport(rpb.ExportReportRequest(case_id=plastic.id))
    assert none.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_an_admin_edits_a_regime_and_a_supervisor_may_only_read_them(regimes_admin, legal):
    listed = await legal.ListRegimes(rpb.ListRegimesRequest())
    cpsc = next(r for r in listed.regimes if r.code == "cpsc_15b")
    assert (cpsc.deadline_amount, cpsc.deadline_unit) == (24, "hours")
    assert "product.lot_code" in listed.form_fields
    changed = rpb.Regime()
    changed.CopyFrom(cpsc)
    changed.warn_amount = 8
    try:
        assert (await regimes_admin.PutRegime(changed)).warn_amount == 8
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await legal.PutRegime(changed)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        changed.deadline_unit = "fortnights"
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await regimes_admin.PutRegime(changed)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "deadline_unit" in bad.value.details()
    finally:
        await regimes_admin.PutRegime(cpsc)
