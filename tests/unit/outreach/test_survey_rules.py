"""Survey rules, signed links and answers, with no database: what fires, what is held back, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.outreach import survey_answers, survey_links
from services.outreach.survey_rules import InvalidRule, SurveySent, Trigger, plan, rule_from_input, suppressed

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SECRET = b"test-link-secret"


def csat_rule(**over):
    values = {
        "id": "complaint-csat",
        "kind": "csat",
        "issue_prefix": "complaint",
        "delay_minutes": 2 * 24 * 60,
    }
    values["suppress_days"] = 30
    return rule_from_input({**values, **over})


def resolved(case_id="case-1", issue="complaint.quality", at=NOW) -> Trigger:
    return Trigger("contact_resolved", case_id, "consumer-1", issue, "fr", "team-a", "agent-7", "phone", at)


def test_a_resolved_complaint_plans_csat_two_days_later_under_a_key_of_rule_and_case():
    (decision,) = plan([csat_rule()], resolved(), last_surveyed_at=None)
    assert decision.send_at == NOW + timedelta(days=2)
    assert decision.key == "survey:complaint-csat:case-1"
    # the same case resolved again plans the same key: the scheduler's unique key keeps it to one send
    (again,) = plan([csat_rule()], resolved(at=NOW + timedelta(hours=5)), last_surveyed_at=None)
    assert again.key == decision.key


def test_rules_for_other_issues_or_disabled_rules_do_not_fire():
    assert plan([csat_rule()], resolved(issue="question"), last_surveyed_at=None) == []
    assert plan([csat_rule()], resolved(issue="complaintish"), last_surveyed_at=None) == []
    assert plan([csat_rule(enabled=False)], resolved(), last_surveyed_at=None) == []


def test_a_consumer_surveyed_within_thirty_days_is_held_back_and_after_them_is_not():
    rule = csat_rule()
    (held,) = plan([rule], resolved(), last_surveyed_at=NOW - timedelta(days=29, hours=23))
    assert held.last_surveyed_at == NOW - timedelta(days=29, hours=23)
    assert not hasattr(held, "send_at")
    assert not suppressed(rule, NOW - timedelta(days=30), at=NOW)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "stars"}, "kind"),
        ({"delay_minutes": -1}, "delay_minutes"),
        ({"suppress_days": "30"}, "suppress_days"),
        ({"id": "bad id!"}, "id"),
        ({"kind": "poll"}, "questions"),
        ({"questions": [{"key": "q", "text": {"en": "?"}}]}, "questions"),
    ],
)
def test_a_rule_an_admin_cannot_save_names_its_field(values, field):
    with pytest.raises(InvalidRule, match=rf"^{field}"):
        csat_rule(**values)


def test_a_one_click_link_carries_its_score_and_refuses_tampering_and_expiry():
    token = survey_links.sign(SECRET, "s-1", 4, expires_at=NOW + timedelta(days=14))
    claim = survey_links.verify(SECRET, token, now=NOW)
    assert (claim.survey_id, claim.score) == ("s-1", 4)
    with pytest.raises(survey_links.BadLink, match="altered"):
        survey_links.verify(SECRET, token.replace("s-1.4", "s-1.5"), now=NOW)
    with pytest.raises(survey_links.BadLink, match="expired"):
        survey_links.verify(SECRET, token, now=NOW + timedelta(days=14))
    page = survey_links.sign(SECRET, "s-1", None, expires_at=NOW + timedelta(days=1))
    assert survey_links.verify(SECRET, page, now=NOW).score is None


def sent(rule=None) -> SurveySent:
    return SurveySent("s-1", rule or csat_rule(), resolved(), NOW)


def test_an_answer_outside_the_scale_is_refused_naming_the_question():
    with pytest.raises(survey_answers.InvalidAnswer, match=r"^score: choose a number from 1 to 5"):
        survey_answers.check(sent(), {"score": "6"})
    with pytest.raises(survey_answers.InvalidAnswer, match=r"^score"):
        survey_answers.check(sent(), {})
    nps = sent(rule_from_input({"id": "nps", "kind": "nps"}))
    assert survey_answers.check(nps, {"score": "0"}) == {"score": 0}


def test_the_answered_event_has_exactly_the_contract_fields_with_the_case_as_it_was_sent():
    given = survey_answers.answer(sent(), {"score": 2}, answer_id="a-1", comment=" slow ", now=NOW)
    data = survey_answers.event_data(given)
    assert tuple(data) == survey_answers.EVENT_FIELDS
    assert data == {
        "answer_id": "a-1",
        "survey_id": "s-1",
        "case_id": "case-1",
        "consumer_id": "consumer-1",
        "kind": "csat",
        "score": 2,
        "answered_at": "2026-03-02T10:00:00Z",
        "team": "team-a",
        "agent": "agent-7",
        "channel": "phone",
    }
    assert survey_answers.case_note(given) == "CSAT survey answered: 2 of 1-5; comment: slow"


def test_a_poll_answers_each_question_and_its_headline_is_the_first():
    poll = rule_from_input(
        {
            "id": "delivery-poll",
            "kind": "poll",
            "questions": [
                {"key": "speed", "text": {"en": "Speed?"}},
                {"key": "packaging", "text": {"en": "Packaging?"}, "low": 0, "high": 10},
            ],
        }
    )
    scores = survey_answers.check(sent(poll), {"speed": "5", "packaging": "9"})
    given = survey_answers.answer(sent(poll), scores, answer_id="a-2", comment="", now=NOW)
    assert given.score == 5
    with pytest.raises(survey_answers.InvalidAnswer, match=r"^colour"):
        survey_answers.check(sent(poll), {"speed": "5", "packaging": "9", "colour": "1"})


def test_a_resolved_case_event_is_read_as_a_trigger_with_who_handled_it():
    from services.outreach.survey_mail import NotATrigger, trigger_of

    case = {"id": "c-9", "consumer_id": "con-9", "issue_code": "complaint.taste", "language": "es",
            "team": "north", "assignee": "maria", "channel": "email"}  # fmt: skip
    trigger = trigger_of("contact_resolved", {"case": case}, NOW)
    assert (trigger.team, trigger.agent, trigger.channel, trigger.language) == (
        "north",
        "maria",
        "email",
        "es",
    )
    with pytest.raises(NotATrigger):
        trigger_of("contact_resolved", {"case": {}}, NOW)


def test_the_email_has_a_link_per_score_in_the_consumers_language():
    from services.outreach.survey_mail import compose

    links = {"page": "P", "scores": {n: f"T{n}" for n in range(1, 6)}}
    mail = compose("csat", "fr-CA", reference="1042", base_url="https://care.example", links=links)
    assert mail.subject == "Votre avis en un clic"
    assert [line for line in mail.text.splitlines() if line[:1].isdigit()] == [
        f"{n}: https://care.example/s/T{n}" for n in range(1, 6)
    ]
    assert 'href="https://care.example/s/P"' in mail.html
