"""Casework rules that need no database: the workflow, SLA policy choice, code CSV, input checks, tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.contacts import case_input, codes
from services.contacts.casework import allowed
from services.contacts.codes import CodeBook, SlaPolicy
from services.contacts.validation import ValidationError
from services.runtime import console_tokens


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


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("new", "in_progress", True),
        ("new", "resolved", True),
        ("resolved", "in_progress", True),
        ("resolved", "new", False),
        ("closed", "in_progress", False),
        ("in_progress", "closed", False),
        ("awaiting_consumer", "closed", True),
        ("in_progress", "new", False),
    ],
)
def test_workflow_transitions(start, end, ok):
    assert allowed(start, end) is ok


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


def test_verbatim_is_kept_exactly_but_other_text_is_tidied():
    values = case_input.clean_fields(
        {
            "issue_code": "question",
            "verbatim": "  two  spaces\n",
            "notes": "x",
            "product": {"name": "  Oat   bar "},
        }
    )
    assert values["verbatim"] == "  two  spaces\n" and values["product_name"] == "Oat bar"
    assert values["search_config"] == "english"
    assert case_input.search_config("fr-CA") == "french" and case_input.search_config("xx") == "simple"


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
    ],
)
def test_bad_case_input_names_the_field(data, message):
    with pytest.raises(ValidationError, match=message):
        case_input.clean_fields(data)


def test_console_tokens_are_signed_and_expire():
    secret = b"s"
    token = console_tokens.mint(secret=secret, username="alice", display_name="Alice", role="agent")
    assert console_tokens.verify(token, secret=secret).username == "alice"
    assert console_tokens.verify(token, secret=b"other") is None
    assert console_tokens.verify(token[:-2] + "AA", secret=secret) is None
    expired = console_tokens.mint(secret=secret, username="a", display_name="a", role="agent", ttl_seconds=-1)
    assert console_tokens.verify(expired, secret=secret) is None
