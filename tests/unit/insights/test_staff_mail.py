"""Staff mail through its use cases over in-memory ports: the email to quality assurance on a new alert,
the stakeholder lists, the weekly digest's schedule and PDF, and the warning to legal."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from services.insights import digest_pdf
from services.insights.domain import staff
from services.insights.domain.staff import InvalidStakeholder, InvalidWeek
from services.insights.service import Insights, NotAllowed, Received
from services.insights.staff_mail import StaffMail
from tests.support import insights_scenario as scenario
from tests.unit.insights.staff_fakes import FakeStaffStore, Mailbox, OwingStore

TODAY = date(2026, 12, 2)  # a Wednesday of ISO week 2026-W49
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def never_drawn(found, audience):
    raise AssertionError("no PDF expected")


async def wired(render=never_drawn, clock=None):
    staff_store, mailbox = FakeStaffStore(), Mailbox()
    moment = clock or [NOW]
    insights = Insights(OwingStore(staff_store), clock=lambda: moment[0])
    mail = StaffMail(
        staff_store, insights, mailbox, render, console_url="https://crs.example/", clock=lambda: moment[0]
    )
    return insights, mail, staff_store, mailbox


async def with_the_scenario(insights: Insights) -> None:
    rows = list(csv.DictReader(io.StringIO(scenario.sales_csv(TODAY))))
    await insights.import_sales(rows, source="pos.csv", actor="quinn", role="analyst")
    for case in scenario.cases(TODAY):
        event = Received(str(uuid.uuid4()), "contacts", "contact_created", NOW, {"case": case})
        await insights.take(event)


async def listed(mail: StaffMail, *people: tuple[str, str, str]) -> None:
    for email, role, name in people:
        await mail.put_stakeholder(email=email, role=role, name=name, actor="ada", actor_role="admin")


async def test_a_new_alert_is_mailed_once_to_each_qa_stakeholder_with_its_figures_and_link():
    insights, mail, _, mailbox = await wired()
    await listed(mail, ("quinn@corp.example", "qa", "Quinn"), ("mo@corp.example", "marketing", "Mo"))
    await with_the_scenario(insights)
    raised = await insights.recompute()
    assert raised
    assert await mail.send_due() == len(raised)
    assert await mail.send_due() == 0  # settled: a second round sends nothing
    assert await insights.recompute() == []  # the same figures again raise nothing new, owe nothing

    assert sorted(m.key for m in mailbox.mails) == sorted(f"alert:{a.id}:quinn@corp.example" for a in raised)
    lot = next(a for a in raised if a.signal.lot_code == "L3")
    [sent] = [m for m in mailbox.mails if m.key.startswith(f"alert:{lot.id}")]
    assert sent.to_address == "quinn@corp.example"
    assert "OAT-500" in sent.subject and "lot_poisson_bh" in sent.subject
    for line in ("Product:   OAT-500 (lot L3)", "Issue:     complaint.quality.foreign_object.plastic",
                 "Observed:  8 (weighted complaints)", f"Expected:  {lot.signal.expected:.2f}",
                 f"Score:     {lot.signal.score:.4g}",
                 f"https://crs.example/insights/alerts#alert-{lot.id}"):  # fmt: skip
        assert line in sent.body


async def test_channels_down_leaves_the_alert_owed_and_it_goes_later_with_the_same_key():
    clock = [NOW]
    insights, mail, _, mailbox = await wired(clock=clock)
    await listed(mail, ("quinn@corp.example", "qa", "Quinn"))
    await with_the_scenario(insights)
    raised = await insights.recompute()
    mailbox.down = True
    assert await mail.send_due() == 0
    mailbox.down = False
    assert await mail.send_due() == 0  # not yet: it is retried after a wait
    clock[0] += timedelta(seconds=11)
    assert await mail.send_due() == len(raised)
    assert len(mailbox.mails) == len(raised)


async def test_an_alert_with_nobody_on_the_qa_list_is_settled_saying_so():
    insights, mail, staff_store, mailbox = await wired()
    await with_the_scenario(insights)
    raised = await insights.recompute()
    assert await mail.send_due() == len(raised)
    assert mailbox.calls == 0
    assert all("no one is on the qa list" in row[5] for row in staff_store.owed.values())


async def test_only_an_admin_edits_the_lists_and_each_entry_is_checked():
    _, mail, _, _ = await wired()
    with pytest.raises(NotAllowed):
        await mail.put_stakeholder(
            email="q@corp.example", role="qa", name="Q", actor="quinn", actor_role="analyst"
        )
    with pytest.raises(InvalidStakeholder, match="email"):
        await mail.put_stakeholder(email="not mail", role="qa", name="Q", actor="ada", actor_role="admin")
    with pytest.raises(InvalidStakeholder, match="role"):
        await mail.put_stakeholder(
            email="q@corp.example", role="sales", name="Q", actor="ada", actor_role="admin"
        )
    person = await mail.put_stakeholder(email=" Q@Corp.Example ", role="legal", name="  Lee  Gal ", actor="ada",
                                        actor_role="admin")  # fmt: skip
    assert (person.email, person.name) == ("q@corp.example", "Lee Gal")
    assert [p.email for p in await mail.stakeholders("legal")] == ["q@corp.example"]
    assert await mail.remove_stakeholder(email="q@corp.example", role="legal", actor_role="admin")
    assert not await mail.remove_stakeholder(email="q@corp.example", role="legal", actor_role="admin")


def test_iso_weeks_and_the_week_the_schedule_reports_on():
    assert staff.week_days("2026-W49") == (date(2026, 11, 30), date(2026, 12, 6))
    assert staff.week_days("2020-W53")[0] == date(2020, 12, 28)
    assert staff.iso_week(date(2027, 1, 1)) == "2026-W53"
    for bad in ("2026-49", "2026-W54", "2025-W53"):
        with pytest.raises(InvalidWeek):
            staff.week_days(bad)
    assert staff.last_full_week(NOW) == "2026-W48"


async def test_the_schedule_claims_last_weeks_digest_once_from_monday_at_six():
    clock = [datetime(2026, 11, 30, 5, 59, tzinfo=UTC)]  # Monday of W49, before six
    drawn = []
    _, mail, staff_store, mailbox = await wired(render=lambda d, a: drawn.append((d.week, a)) or b"%PDF-1.7",
                                                clock=clock)  # fmt: skip
    await listed(mail, ("quinn@corp.example", "qa", "Quinn"), ("lee@corp.example", "legal", "Lee"),
                 ("lou@corp.example", "legal", "Lou"))  # fmt: skip
    await mail.tick()
    assert staff_store.weeks == {"2026-W47"}  # before six the week before last is still the due one
    clock[0] = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    await mail.tick()
    await mail.tick()  # the schedule firing twice, or a restart: the week is claimed once
    assert staff_store.weeks == {"2026-W47", "2026-W48"}
    w48 = sorted((m.key, m.attachment_name) for m in mailbox.mails if ":2026-W48:" in m.key)
    assert w48 == [
        ("digest:2026-W48:legal:lee@corp.example", "digest-2026-W48-legal.pdf"),
        ("digest:2026-W48:legal:lou@corp.example", "digest-2026-W48-legal.pdf"),
        ("digest:2026-W48:qa:quinn@corp.example", "digest-2026-W48-qa.pdf"),
    ]
    assert sorted(a for w, a in drawn if w == "2026-W48") == ["legal", "qa"]  # one PDF per list with people


async def test_the_digest_pdf_holds_the_weeks_figures():
    insights, mail, _, _ = await wired(render=digest_pdf.render)
    await with_the_scenario(insights)
    raised = await insights.recompute()
    found = await mail.digest("2026-W49")
    assert found.contacts == sum(
        1 for c in scenario.cases(TODAY) if date(2026, 11, 30) <= _received(c) <= date(2026, 12, 6)
    )
    assert {a.id for a in found.alerts} == {a.id for a in raised}
    text = " ".join(PdfReader(io.BytesIO(await mail.pdf("2026-W49", "qa"))).pages[0].extract_text().split())
    assert "Consumer affairs weekly digest 2026-W49" in text and "For Quality assurance" in text
    assert f"Contacts received 2026-11-30 to 2026-12-06: {found.contacts}" in text
    top = found.volumes[0]
    assert f"{top.issue_code} {top.contacts}" in text
    assert "OAT-500" in text and "lot_poisson_bh" in text


def _received(case: dict) -> date:
    return datetime.fromisoformat(case["occurred_at"].replace("Z", "+00:00")).date()


def test_a_regulatory_warning_goes_to_each_address_the_regime_names():
    warning = {
        "contact_id": "c-1", "reference": "1042", "issue_code": "adverse_event.serious",
        "notify": ["legal@corp.example", "LEGAL@corp.example", "not an address"], "assignee": "ada",
        "clock": {"regime_name": "FDA MedWatch (supplements)", "authority": "FDA", "form": "MedWatch 3500A",
                  "deadline": "15 business days", "due_at": "2026-12-20T17:00:00Z", "state": "warning"},
    }  # fmt: skip
    [sent] = staff.regulatory_mails(warning, "ev-1", "https://crs.example")
    assert (sent.key, sent.to_address) == ("regulatory:ev-1:legal@corp.example", "legal@corp.example")
    assert sent.subject == "Regulatory report due: case 1042 (FDA MedWatch (supplements))"
    assert (
        "FDA MedWatch 3500A" in sent.body and "2026-12-20T17:00:00Z (15 business days, warning)" in sent.body
    )
    assert "https://crs.example/cases/view?id=c-1" in sent.body


async def test_a_warning_taken_twice_off_the_bus_is_owed_and_mailed_once():
    _, mail, staff_store, mailbox = await wired()
    warning = {"contact_id": "c-1", "notify": ["legal@corp.example"], "clock": {}}
    assert await staff_store.owe_warning("ev-1", warning)
    assert not await staff_store.owe_warning("ev-1", warning)
    assert await mail.send_due() == 1
    assert [m.key for m in mailbox.mails] == ["regulatory:ev-1:legal@corp.example"]
