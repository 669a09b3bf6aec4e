"""The survey rule form as outreach reads it: numbers as typed, a poll's questions one a line, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from multidict import MultiDict

from services.console.clients import as_json
from services.console.routes.survey_rules import given_of, rule_request
from services.outreach.survey_rules import InvalidRule, rule_from_input
from services.outreach.survey_rules_grpc import input_of, rule_message


def test_a_poll_typed_in_the_form_is_the_rule_outreach_saves_and_the_form_shows_it_back():
    form = MultiDict(id="taste-poll", name="Taste", kind="poll", issue_prefix="complaint", delay_minutes="60",
                     suppress_days="30", questions="taste | How did it taste? | 0-10\nagain | Buy again?\n")  # fmt: skip
    rule = rule_from_input(input_of(rule_request(form)))
    assert (rule.delay, rule.suppress_for, rule.enabled) == (timedelta(hours=1), timedelta(days=30), True)
    assert [(q.key, q.text, q.low, q.high) for q in rule.questions] == [
        ("taste", {"en": "How did it taste?"}, 0, 10),
        ("again", {"en": "Buy again?"}, 1, 5),
    ]
    shown = given_of(as_json(rule_message(rule)))
    assert shown["questions"] == "taste | How did it taste? | 0-10\nagain | Buy again? | 1-5"
    assert rule_from_input(input_of(rule_request(MultiDict(shown)))) == rule


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ({"delay_minutes": "soon"}, "delay_minutes: a whole number"),
        ({"kind": "poll"}, "questions: a poll has 1 to 5"),
        ({"questions": "q1 | Good?"}, "questions: only a poll has questions"),
        ({"kind": "poll", "questions": "q1"}, "questions: each needs a key and an English text"),
        ({"id": "no spaces"}, "id: letters, digits"),
    ],
)
def test_what_outreach_cannot_save_is_refused_naming_the_field(typed, said):
    form = MultiDict({"id": "r1", "kind": "csat", "delay_minutes": "0", "suppress_days": "0", **typed})
    with pytest.raises(InvalidRule, match=said):
        rule_from_input(input_of(rule_request(form)))
