"""Regulatory clocks with hand-worked dates: business days across weekends and holidays, a 24-hour regime,
which regime a case falls under, and the state of its clock as time passes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.contacts.casework.domain.regulatory import (
    BusinessCalendar,
    Filing,
    Regime,
    Span,
    clean_regime,
    clock_for,
    regime_for,
)
from services.contacts.casework.exceptions import InvalidInput

THANKSGIVING = date(2026, 11, 26)
CHRISTMAS = date(2026, 12, 25)
CALENDAR = BusinessCalendar([THANKSGIVING, CHRISTMAS])
MEDWATCH = Regime(
    code="fda_medwatch_supplement",
    name="Serious adverse event, dietary supplement",
    authority="FDA",
    form="MedWatch 3500A",
    issue_prefixes=("complaint.illness_injury.adverse_event",),
    deadline=Span(15, "business_days"),
    warn_before=Span(2, "business_days"),
    min_severity="high",
    form_fields=("reference", "product.lot_code"),
)
CPSC = Regime(
    code="cpsc_15b",
    name="Substantial product hazard",
    authority="CPSC",
    form="Section 15(b) report",
    issue_prefixes=("complaint.illness_injury.injury", "complaint.illness_injury"),
    deadline=Span(24, "hours"),
    warn_before=Span(6, "hours"),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_business_day_after_a_friday_is_the_monday():
    assert CALENDAR.after(at("2026-12-04 09:00"), Span(1, "business_days")) == at("2026-12-07 09:00")


def test_business_days_skip_a_holiday_and_the_weekend_after_it():
    # Wed 25 Nov + 2: Thanksgiving (Thu 26) does not count, Fri 27 is the first, Mon 30 the second.
    assert CALENDAR.after(at("2026-11-25 10:00"), Span(2, "business_days")) == at("2026-11-30 10:00")


def test_the_medwatch_clock_of_a_serious_adverse_event_counts_fifteen_business_days_past_christmas():
    clock = clock_for(
        [CPSC, MEDWATCH],
        CALENDAR,
        issue_code="complaint.illness_injury.adverse_event",
        severity="critical",
        received_at=at("2026-12-04 09:00"),
    )
    assert clock.regime is MEDWATCH
    # Dec 7-11 (5), 14-18 (10), 21-24 (14), Christmas skipped, Mon 28 the fifteenth.
    assert clock.due_at == at("2026-12-28 09:00")
    # Two business days back from Mon 28: the weekend and Christmas do not count: Thu 24, then Wed 23.
    assert clock.warn_at == at("2026-12-23 09:00")
    assert clock.state(at("2026-12-22 17:00")) == "on_time"
    assert clock.state(at("2026-12-23 09:00")) == "warning"
    assert clock.state(at("2026-12-28 09:00")) == "breached"


def test_the_cpsc_clock_is_twenty_four_hours_weekend_or_not():
    clock = clock_for(
        [CPSC, MEDWATCH],
        CALENDAR,
        issue_code="complaint.illness_injury.injury",
        severity="critical",
        received_at=at("2026-12-05 15:30"),  # a Saturday
    )
    assert clock.regime is CPSC
    assert (clock.due_at, clock.warn_at) == (at("2026-12-06 15:30"), at("2026-12-06 09:30"))
    assert clock.state(at("2026-12-06 09:29")) == "on_time"
    assert clock.state(at("2026-12-06 09:30")) == "warning"


def test_a_filed_report_is_filed_or_filed_late_whatever_the_time_now():
    clock = clock_for(
        [CPSC],
        CALENDAR,
        issue_code="complaint.illness_injury",
        severity="critical",
        received_at=at("2026-12-01 08:00"),
    )
    assert (
        clock.filed(Filing(at("2026-12-01 20:00"), "sam", "CPSC-1")).state(at("2027-01-01 00:00")) == "filed"
    )
    assert clock.filed(Filing(at("2026-12-02 08:01"), "sam")).state(at("2026-12-02 09:00")) == "filed_late"
    with pytest.raises(InvalidInput, match="reported_at"):
        clock.filed(Filing(at("2026-11-30 08:00"), "sam"))


def test_the_most_specific_regime_applies_and_a_milder_case_falls_under_none_needing_serious():
    assert (
        regime_for([CPSC, MEDWATCH], issue_code="complaint.illness_injury.adverse_event", severity="high")
        is MEDWATCH
    )
    # MedWatch is for serious events only: high or worse.
    assert (
        regime_for([MEDWATCH], issue_code="complaint.illness_injury.adverse_event", severity="medium") is None
    )
    assert regime_for([CPSC, MEDWATCH], issue_code="complaint.quality", severity="critical") is None
    retired = Regime(**{**vars(CPSC), "active": False})
    assert regime_for([retired], issue_code="complaint.illness_injury.injury", severity="critical") is None


def test_an_admins_regime_is_checked_field_by_field():
    given = {
        "code": "eu_gpsr",
        "name": "Dangerous product",
        "authority": "EU Safety Gate",
        "issue_prefixes": ["complaint.illness_injury"],
        "deadline_amount": 2,
        "deadline_unit": "business_days",
        "warn_amount": 4,
        "warn_unit": "hours",
        "form_fields": ["reference", "verbatim"],
        "notify": ["legal@example.com"],
    }
    regime = clean_regime(given, form_fields=("reference", "verbatim"))
    assert (str(regime.deadline), str(regime.warn_before)) == ("2 business days", "4 hours")
    for change, field in (
        ({"deadline_unit": "weeks"}, "deadline_unit"),
        ({"deadline_amount": 0}, "deadline_amount"),
        ({"form_fields": ["salary"]}, "form_fields"),
        ({"issue_prefixes": []}, "issue_prefixes"),
        ({"notify": ["legal"]}, "notify"),
        ({"code": "Bad Code"}, "code"),
    ):
        with pytest.raises(InvalidInput, match=field):
            clean_regime({**given, **change}, form_fields=("reference", "verbatim"))
