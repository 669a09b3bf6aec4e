"""An answer to a survey: checked against its kind's scale, turned into the `survey_answered` event and the
note an agent reads on the case.

The event's fields are the contract the insights reports consume, declared once in EVENT_FIELDS. Team, agent
and channel come from the case as it stood when the survey was sent (SurveySent.trigger), so a case that is
later reassigned does not move its rating to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.outreach.survey_rules import SurveySent, score_range
from services.runtime.events import Event

SOURCE = "outreach"
EVENT_TYPE = "survey_answered"
EVENT_FIELDS = (
    "answer_id",
    "survey_id",
    "case_id",
    "consumer_id",
    "kind",
    "score",
    "answered_at",
    "team",
    "agent",
    "channel",
)


class InvalidAnswer(ValueError):
    """An answer outside the survey's scale or to a question it does not ask; the message names which."""


@dataclass(frozen=True)
class Answer:
    answer_id: str
    survey: SurveySent
    score: int
    scores: dict[str, int]  # poll: question key -> score; csat/nps: {"score": score}
    comment: str
    answered_at: datetime


def check(survey: SurveySent, scores: dict[str, object], comment: str = "") -> dict[str, int]:
    """The scores as whole numbers within the scale of each question, or InvalidAnswer naming the question."""
    rule = survey.rule
    questions = rule.questions if rule.kind == "poll" else ()
    wanted = {q.key: (q.low, q.high) for q in questions} or {"score": score_range(rule.kind)}
    checked: dict[str, int] = {}
    for key, (low, high) in wanted.items():
        raw = scores.get(key)
        try:
            value = int(str(raw)) if raw not in (None, "") else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise InvalidAnswer(f"{key}: choose a number from {low} to {high}")
        checked[key] = value
    unknown = set(scores) - set(wanted)
    if unknown:
        raise InvalidAnswer(f"{sorted(unknown)[0]}: this survey does not ask that")
    if len(comment) > 2000:
        raise InvalidAnswer("comment: at most 2000 characters")
    return checked


def answer(
    survey: SurveySent, scores: dict[str, int], *, answer_id: str, comment: str, now: datetime
) -> Answer:
    headline = next(iter(scores.values()))
    return Answer(answer_id, survey, headline, scores, comment.strip(), now)


def event_data(given: Answer) -> dict:
    trigger = given.survey.trigger
    data = {
        "answer_id": given.answer_id,
        "survey_id": given.survey.survey_id,
        "case_id": trigger.case_id,
        "consumer_id": trigger.consumer_id,
        "kind": given.survey.rule.kind,
        "score": given.score,
        "answered_at": given.answered_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "team": trigger.team,
        "agent": trigger.agent,
        "channel": trigger.channel,
    }
    return data


def event(given: Answer) -> Event:
    """`survey_answered` on outreach.events, at the moment of the answer."""
    return Event(source=SOURCE, type=EVENT_TYPE, data=event_data(given), time=given.answered_at)


def case_note(given: Answer) -> str:
    """The line an agent sees on the case timeline."""
    rule = given.survey.rule
    low, high = score_range(rule.kind, rule.questions)
    parts = [f"{rule.kind.upper()} survey answered: {given.score} of {low}-{high}"]
    if rule.kind == "poll" and len(given.scores) > 1:
        parts.append(", ".join(f"{k} {v}" for k, v in given.scores.items()))
    if given.comment:
        parts.append(f"comment: {given.comment}")
    return "; ".join(parts)
