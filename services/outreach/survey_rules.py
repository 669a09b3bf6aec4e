"""Survey kinds and the sending rules an admin edits, as plain data, and the decision a rule takes on a trigger.

A rule says: on this trigger (an event type, optionally narrowed to an issue code and its children), send this
kind of survey after a delay, unless the consumer was surveyed within the suppression window. A rule fires once
per trigger: the unique key of the timer it schedules is the rule and the case, so a redelivered event or a
second resolution of the same case schedules nothing new. Suppression is checked again when the timer fires,
because another survey may have gone out in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

KINDS = ("csat", "nps", "poll")
# Each kind's score range (inclusive). A poll's questions declare their own; its headline score is the first.
SCORE_RANGE = {"csat": (1, 5), "nps": (0, 10)}
TRIGGERS = ("contact_resolved",)
MAX_POLL_QUESTIONS = 5


class InvalidRule(ValueError):
    """An admin's rule or poll that cannot be saved; the message names the field."""


@dataclass(frozen=True)
class Question:
    """One poll question: a scale from `low` to `high`, labelled per language."""

    key: str
    text: dict[str, str]  # language -> question text
    low: int = 1
    high: int = 5


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    trigger: str
    kind: str
    delay: timedelta
    suppress_for: timedelta
    issue_prefix: str = ""  # '' = every issue; 'complaint' matches complaint and complaint.*
    questions: tuple[Question, ...] = ()
    enabled: bool = True

    def matches(self, trigger: Trigger) -> bool:
        if not self.enabled or trigger.type != self.trigger or not trigger.consumer_id:
            return False
        prefix = self.issue_prefix
        return not prefix or trigger.issue_code == prefix or trigger.issue_code.startswith(prefix + ".")

    def unique_key(self, trigger: Trigger) -> str:
        return f"survey:{self.id}:{trigger.case_id}"


@dataclass(frozen=True)
class Trigger:
    """What a rule reads from the event: the case as it stood, including who handled it (for the reports)."""

    type: str
    case_id: str
    consumer_id: str
    issue_code: str
    language: str
    team: str
    agent: str
    channel: str
    occurred_at: datetime


@dataclass(frozen=True)
class Planned:
    rule: Rule
    trigger: Trigger
    send_at: datetime
    key: str


@dataclass(frozen=True)
class Suppressed:
    rule: Rule
    trigger: Trigger
    last_surveyed_at: datetime


def plan(
    rules: list[Rule], trigger: Trigger, *, last_surveyed_at: datetime | None
) -> list[Planned | Suppressed]:
    """What each matching rule does with `trigger`: schedule a survey at a time, or hold back."""
    decisions: list[Planned | Suppressed] = []
    for rule in rules:
        if not rule.matches(trigger):
            continue
        if suppressed(rule, last_surveyed_at, at=trigger.occurred_at):
            decisions.append(Suppressed(rule, trigger, last_surveyed_at))
            continue
        send_at = trigger.occurred_at + rule.delay
        decisions.append(Planned(rule, trigger, send_at, rule.unique_key(trigger)))
    return decisions


def suppressed(rule: Rule, last_surveyed_at: datetime | None, *, at: datetime) -> bool:
    """True when the consumer was surveyed within the rule's window before `at`."""
    return last_surveyed_at is not None and at - last_surveyed_at < rule.suppress_for


def score_range(kind: str, questions: tuple[Question, ...] = ()) -> tuple[int, int]:
    if kind == "poll":
        return (questions[0].low, questions[0].high) if questions else (1, 5)
    return SCORE_RANGE[kind]


def rule_from_input(values: dict) -> Rule:
    """A rule from what the admin typed (console form or gRPC), or InvalidRule naming the field."""
    rule_id = _text(values, "id")
    kind = _text(values, "kind")
    if kind not in KINDS:
        raise InvalidRule(f"kind: one of {', '.join(KINDS)}")
    trigger = _text(values, "trigger") or "contact_resolved"
    if trigger not in TRIGGERS:
        raise InvalidRule(f"trigger: one of {', '.join(TRIGGERS)}")
    delay = _duration(values, "delay_minutes", at_most=60 * 24 * 60)
    suppress = _duration(values, "suppress_days", at_most=365, unit=timedelta(days=1))
    questions = tuple(_question(q) for q in values.get("questions") or ())
    if kind == "poll" and not 1 <= len(questions) <= MAX_POLL_QUESTIONS:
        raise InvalidRule(f"questions: a poll has 1 to {MAX_POLL_QUESTIONS}")
    if kind != "poll" and questions:
        raise InvalidRule("questions: only a poll has questions")
    return Rule(
        id=rule_id,
        name=_text(values, "name") or rule_id,
        trigger=trigger,
        kind=kind,
        delay=delay,
        suppress_for=suppress,
        issue_prefix=_text(values, "issue_prefix"),
        questions=questions,
        enabled=bool(values.get("enabled", True)),
    )


def _text(values: dict, name: str) -> str:
    value = values.get(name, "")
    if not isinstance(value, str):
        raise InvalidRule(f"{name}: text, please")
    value = value.strip()
    if name == "id" and not (
        value and value.replace("-", "").replace("_", "").isalnum() and len(value) <= 60
    ):
        raise InvalidRule("id: letters, digits, - and _, at most 60")
    return value


def _duration(values: dict, name: str, *, at_most: int, unit: timedelta = timedelta(minutes=1)) -> timedelta:
    value = values.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= at_most:
        raise InvalidRule(f"{name}: a whole number from 0 to {at_most}")
    return value * unit


def _question(values: dict) -> Question:
    key = _text(values, "key")
    texts = values.get("text") or {}
    if not key or not isinstance(texts, dict) or not texts.get("en"):
        raise InvalidRule("questions: each needs a key and an English text")
    low, high = values.get("low", 1), values.get("high", 5)
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low < high <= 10):
        raise InvalidRule(f"questions.{key}: a scale within 0..10")
    return Question(key=key, text={k: str(v) for k, v in texts.items()}, low=low, high=high)


@dataclass
class SurveySent:
    """A survey on its way: who, for which case, and the case's team, agent and channel when it was sent."""

    survey_id: str
    rule: Rule
    trigger: Trigger
    sent_at: datetime
    answered_scores: dict[str, int] = field(default_factory=dict)
