"""Regulatory clocks' use cases against an in-memory unit of work: legal is warned once per case when its
warning time comes (not before, not for a filed report), a report is marked filed once, and an admin's
regime must name issue codes that exist."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.contacts.casework.domain.case import Case
from services.contacts.casework.exceptions import InvalidInput, Refused
from services.contacts.casework.notifier import Notifier
from services.contacts.casework.regulatory_service import Regulatory
from services.contacts.casework.shape import FORM_FIELDS
from tests.unit.contacts.test_regulatory_clocks import CALENDAR, CPSC, MEDWATCH, at


class FakeRegulatoryTables:
    def __init__(self, cases: list[Case]):
        self.regimes_kept = {r.code: r for r in (MEDWATCH, CPSC)}
        self.holiday_days = {day: "holiday" for day in CALENDAR.holidays}
        self.filed: dict[str, object] = {}
        self.warned: dict[str, str] = {}
        self.notes: list[str] = []
        self.cases = cases

    async def regimes(self, *, include_inactive=False):
        return [r for r in self.regimes_kept.values() if include_inactive or r.active]

    async def holidays(self):
        return sorted(self.holiday_days.items())

    async def put_regime(self, regime, *, actor):
        self.regimes_kept[regime.code] = regime

    async def filings(self, case_ids):
        return {i: f for i, f in self.filed.items() if i in case_ids}

    async def file(self, case_id, regime, filing, *, recorded_at, note):
        self.filed[case_id] = filing
        self.notes.append(note)

    async def unwarned(self, prefixes, *, since, limit):
        return [
            c
            for c in self.cases
            if c.id not in self.warned and c.id not in self.filed and c.occurred_at >= since
        ]

    async def record_warning(self, case_id, regime, *, due_at, warned_at, note):
        self.warned[case_id] = regime
        self.notes.append(note)


class FakeUnitOfWork:
    def __init__(self, tables: FakeRegulatoryTables, outbox: list):
        self.regulatory, self._outbox, self._staged = tables, outbox, []

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self._staged = []

    async def publish(self, events):
        self._staged.extend(events)

    async def commit(self):
        self._outbox.extend(self._staged)


def a_case(case_id: str, issue_code: str, received: datetime, reference: int = 1) -> Case:
    return Case(
        id=case_id, reference=reference, issue_code=issue_code, severity="critical", occurred_at=received
    )


@pytest.fixture
def world():
    cases = [
        a_case("supplement", "complaint.illness_injury.adverse_event", at("2026-12-04 09:00"), 7),
        a_case("blender", "complaint.illness_injury.injury", at("2026-12-10 12:00"), 8),
    ]
    tables, outbox, now = FakeRegulatoryTables(cases), [], [at("2026-12-10 13:00")]
    service = Regulatory(
        unit_of_work=lambda: FakeUnitOfWork(tables, outbox),
        warning=Notifier().regulatory_deadline_near,
        form_fields=FORM_FIELDS,
        clock=lambda: now[0],
    )
    return service, tables, outbox, now, cases


async def test_legal_is_warned_once_per_case_when_its_warning_time_comes(world):
    service, tables, outbox, now, _ = world
    assert await service.warn_due() == 0  # MedWatch warns from Dec 23, CPSC from Dec 11 06:00
    now[0] = at("2026-12-11 06:00")
    assert await service.warn_due() == 1
    (event,) = outbox
    assert (event.type, event.data["contact_id"], event.data["clock"]["form"]) == (
        "regulatory_deadline_near",
        "blender",
        "Section 15(b) report",
    )
    assert event.data["clock"]["due_at"] == "2026-12-11T12:00:00Z"
    assert tables.notes == ["CPSC Section 15(b) report due 2026-12-11 12:00 UTC and not filed: legal warned"]
    now[0] = at("2026-12-24 10:00")
    assert await service.warn_due() == 1
    assert [e.data["contact_id"] for e in outbox] == ["blender", "supplement"]
    now[0] += timedelta(days=3)
    assert await service.warn_due() == 0


async def test_a_filed_report_is_not_warned_of_and_is_marked_filed_once(world):
    service, tables, outbox, now, cases = world
    supplement = cases[0]
    clock = await service.file_report(supplement, reported_at=None, reference="MW-1", actor="sam")
    assert (clock.state(now[0]), clock.filing.reported_by) == ("filed", "sam")
    assert tables.notes == ["FDA MedWatch 3500A filed 2026-12-10 13:00 UTC, reference MW-1"]
    with pytest.raises(Refused, match="marked filed by sam"):
        await service.file_report(supplement, reported_at=None, reference="MW-2", actor="tess")
    with pytest.raises(InvalidInput, match="future"):
        await service.file_report(
            cases[1], reported_at=now[0] + timedelta(hours=1), reference="", actor="sam"
        )
    now[0] = at("2026-12-24 10:00")
    assert await service.warn_due() == 1  # the blender only
    assert [e.data["contact_id"] for e in outbox] == ["blender"]


async def test_a_case_no_regime_covers_has_no_clock_and_no_report_to_file(world):
    service, *_ = world
    plastic = a_case("plastic", "complaint.quality.foreign_object.plastic", at("2026-12-10 09:00"))
    assert await service.clocks([plastic]) == {}
    with pytest.raises(Refused, match="no regulatory regime applies"):
        await service.file_report(plastic, reported_at=None, reference="", actor="sam")


async def test_a_regime_names_issue_codes_that_exist(world):
    service, tables, *_ = world
    given = {
        "code": "eu_gpsr",
        "name": "Dangerous product",
        "authority": "EU Safety Gate",
        "issue_prefixes": ["complaint.burns"],
        "deadline_amount": 2,
        "deadline_unit": "business_days",
        "warn_amount": 1,
        "warn_unit": "business_days",
        "form_fields": ["reference", "product.lot_code"],
    }
    with pytest.raises(InvalidInput, match=r"complaint\.burns"):
        await service.put_regime(given, actor="ada-admin", issue_codes={"complaint.illness_injury"})
    given["issue_prefixes"] = ["complaint.illness_injury"]
    await service.put_regime(given, actor="ada-admin", issue_codes={"complaint.illness_injury"})
    assert tables.regimes_kept["eu_gpsr"].form_fields == ("reference", "product.lot_code")
