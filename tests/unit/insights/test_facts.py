"""What insights reads from a case in casework's events."""

from __future__ import annotations

from datetime import date

import pytest

from services.insights.domain.facts import (
    InvalidFact,
    from_case,
    from_record,
    issue_levels,
    region_of,
    to_record,
)


def test_an_unverified_web_form_contact_weighs_a_quarter_and_a_verified_one_all():
    web = {"id": "c1", "channel": "web", "consumer_id": "", "occurred_at": "2026-11-20T09:00:00Z"}
    assert from_case(web).weight == 0.25
    assert from_case({**web, "consumer_id": "0b6a1f5e-8a4e-4a55-9d1f-6f1f6a9f0c11"}).weight == 1.0
    assert from_case({**web, "channel": "letter"}).weight == 1.0


def test_the_received_date_is_the_back_dated_one_else_the_day_keyed():
    letter = {"id": "c2", "occurred_at": "2026-11-02T23:30:00Z", "created_at": "2026-12-01T10:00:00Z"}
    assert from_case(letter).received_on == date(2026, 11, 2)
    assert from_case({"id": "c3", "created_at": "2026-12-01T10:00:00Z"}).received_on == date(2026, 12, 1)


def test_a_case_without_an_id_or_a_date_is_refused_with_why():
    with pytest.raises(InvalidFact, match="no id or no received date"):
        from_case({"id": "c4"})
    with pytest.raises(InvalidFact, match="is not a time"):
        from_case({"id": "c5", "occurred_at": "last Tuesday"})


def test_the_region_is_what_follows_the_last_comma():
    assert region_of("Springfield, il") == "IL"
    assert region_of("Ontario") == "ONTARIO"
    assert region_of("") == ""


def test_every_level_of_the_issue_tree():
    assert issue_levels("complaint.quality.taste") == [
        "complaint",
        "complaint.quality",
        "complaint.quality.taste",
    ]
    assert issue_levels("") == []


def test_a_logged_contact_reads_back_as_it_was_and_a_broken_one_is_refused():
    web = from_case({"id": "c6", "channel": "web", "occurred_at": "2026-11-20T09:00:00Z"})
    assert from_record(to_record(web, 3)) == (web, 3)
    assert from_record(to_record(web, 3))[0].weight == 0.25
    with pytest.raises(InvalidFact, match="incomplete or malformed"):
        from_record({"contact_id": "c7", "version": 1})
