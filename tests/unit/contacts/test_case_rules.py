"""Casework rules that need no database: SLA policy choice, code CSV, input checks by the declared rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.contacts.casework.domain import codes, fields
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.domain.sla import SlaPolicy
from services.contacts.casework.exceptions import InvalidInput as ValidationError
from services.contacts.casework.shape import CASE_RULES
from tests.unit.contacts.fakes import NOW


def book() -> CodeBook:
    issue = lambda code, severity="low", esc=False: {  # noqa: E731
        "code": code,
        "label": code.rsplit(".", 1)[-1].title(),
        "severity": severity,
        "auto_escalate": esc,
        "active": True,
    }
    return CodeBook(
        issues={
            i["code"]: i
            for i in [
                issue("complaint", "medium"),
                issue("complaint.illness_injury", "critical", True),
                issue("complaint.illness_injury.injury", "critical"),
                issue("question"),
            ]
        },
        policies=[
            SlaPolicy("", None, timedelta(days=2), timedelta(days=10)),
            SlaPolicy("complaint", None, timedelta(days=1), timedelta(days=7)),
            SlaPolicy("", "critical", timedelta(hours=1), timedelta(days=1)),
        ],
    )


def test_the_most_specific_sla_policy_wins_and_severity_beats_issue():
    b = book()
    assert b.policy_for("complaint.quality", "medium").first_response == timedelta(days=1)
    assert b.policy_for("question", "low").first_response == timedelta(days=2)
    assert b.policy_for("complaint.quality", "critical").first_response == timedelta(hours=1)
    assert not SlaPolicy("complaint", None, timedelta(1), timedelta(1)).applies_to("complaints.x", "low")


def test_escalation_is_inherited_down_the_tree():
    b = book()
    assert b.escalates("complaint.illness_injury.injury") and not b.escalates("complaint")


def test_code_csv_round_trips_and_names_the_bad_line():
    text = "code,label,severity,auto_escalate,active,position\ncomplaint.x.y,Y,high,false,true,2\ncomplaint.x,X,low,,,1\n"
    rows = codes.read_csv("issue", text)
    assert [r["code"] for r in rows] == ["complaint.x", "complaint.x.y"]  # parents first
    assert codes.read_csv("issue", codes.write_csv("issue", rows)) == rows
    with pytest.raises(ValidationError, match="line 3: severity"):
        codes.read_csv("issue", "code,label,severity\nok,Fine,low\nbad,Bad,extreme\n")
    with pytest.raises(ValidationError, match="appears twice"):
        codes.read_csv("action", "code,label\nreplied,R\nreplied,R\n")


def clean(data, **kw):
    return fields.clean(data, CASE_RULES, now=NOW, **kw)


def test_verbatim_is_kept_exactly_but_other_text_is_tidied():
    values = clean(
        {
            "issue_code": "question",
            "verbatim": "  two  spaces\n",
            "notes": "x",
            "product": {"name": "  Oat   bar "},
        }
    )
    assert values["verbatim"] == "  two  spaces\n" and values["product"]["name"] == "Oat bar"
    assert fields.search_config("fr-CA") == "french" and fields.search_config("xx") == "simple"


def test_the_declared_defaults_fill_what_is_left_empty():
    values = clean({"issue_code": "question", "channel": "", "language": ""})
    assert (values["channel"], values["direction"], values["language"]) == ("phone", "inbound", "en")
    assert values["severity"] == "" and values["occurred_at"] is None
    assert values["product"]["best_by"] is None and values["reporter"] == {
        "name": "",
        "email": "",
        "phone": "",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"issue_code": ""}, "issue_code"),
        ({"issue_code": "q", "channel": "fax"}, "channel"),
        ({"issue_code": "q", "verbatim": "a\x00b"}, "NUL"),
        ({"issue_code": "q", "product": []}, "product"),
        ({"issue_code": "q", "product": {"best_by": "2025-13-01"}}, "best_by"),
        ({"issue_code": "q", "consumer_id": "x"}, "consumer_id"),
        ({"issue_code": "q", "verbatim": "\ud800"}, "Unicode"),
        ({"issue_code": "q", "product": {"lot_code": "L" * 65}}, "product.lot_code: at most 64"),
        ({"issue_code": "q", "reporter": {"email": "nope"}}, "reporter.email"),
        ({"issue_code": "q", "reporter": {"phone": "call me"}}, "reporter.phone"),
        ({"issue_code": "q", "severity": "dire"}, "severity: one of low, medium, high, critical"),
        ({"issue_code": "q", "language": "english please"}, "language"),
        ({"issue_code": "q", "occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at: is in the future"),
        ({"issue_code": "q", "product": {"purchased_on": "2026-12-01"}}, "purchased_on: is in the future"),
        ({"issue_code": "q", "status": "closed"}, "status: not a field a client may set"),
        ({"issue_code": "q", "product": {"colour": "red"}}, "product.colour: not a field"),
        ({"issue_code": "x" * 201}, "issue_code: at most 200"),
    ],
)
def test_bad_case_input_names_the_field(data, message):
    with pytest.raises(ValidationError, match=message):
        clean(data)


def test_an_update_checks_only_the_fields_it_names():
    assert clean({"notes": "x", "channel": "fax"}, only={"notes"}) == {"notes": "x"}
    with pytest.raises(ValidationError, match="update_mask: cannot change reference"):
        clean({}, only={"reference"})
