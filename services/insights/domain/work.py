"""How a case was worked, and how its consumer rated it: the facts the operational reports read.

A `CaseWork` comes from casework's case events (crs.contacts.v1.Case in its JSON mapping); a `Rating` from
outreach's `survey_answered`. Both keep staff and coded facts only: the team and agent who worked the case
are staff data, kept for the by-team and by-agent reports; of the consumer nothing is kept, not even the
consumer id the survey event carries. `to_record` is what insights stores and logs, `from_record` reads it
back for a rebuild.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime

from services.insights.domain.facts import InvalidFact

# casework's open stages (services/contacts/casework/domain/case.py, OPEN_STAGES): the backlog.
OPEN_STAGES = ("new", "in_progress", "awaiting_consumer", "awaiting_fulfillment")
SURVEY_KINDS = ("csat", "nps")


@dataclass(frozen=True)
class CaseWork:
    case_id: str
    team: str
    agent: str
    channel: str
    issue_code: str
    created_at: datetime
    stage: str
    escalated: bool
    calls: int
    first_response_seconds: float | None  # None: not answered yet
    resolution_seconds: float | None  # None: not resolved (or reopened)
    sla_breach: str  # "", first_response or resolution

    @property
    def open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def first_contact_resolution(self) -> bool:
        """Resolved in the step that first answered it: a case taken and resolved on the call (or in one
        reply) moves new -> resolved, which stamps its first response and its resolution at one moment;
        any step between (in progress, awaiting the consumer) answers it first. Never escalated, and on at
        most one call."""
        return (
            self.resolution_seconds is not None
            and self.first_response_seconds is not None
            and self.resolution_seconds == self.first_response_seconds
            and not self.escalated
            and self.calls <= 1
        )


@dataclass(frozen=True)
class Rating:
    answer_id: str
    case_id: str
    kind: str  # csat (1-5) or nps (0-10)
    score: int
    answered_at: datetime
    team: str
    agent: str
    channel: str


def _moment(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise InvalidFact(f"{what} {text!r} is not a time") from exc


def _seconds(case: dict, name: str, stamped: str) -> float | None:
    if not case.get(stamped):
        return None
    return max(0.0, float(case.get(name) or 0.0))


def work_of(case: dict) -> CaseWork:
    case_id = case.get("id") or ""
    if not case_id or not case.get("created_at"):
        raise InvalidFact("the case carries no id or no created_at")
    return CaseWork(
        case_id=case_id,
        team=str(case.get("team") or ""),
        agent=str(case.get("assignee") or ""),
        channel=str(case.get("channel") or ""),
        issue_code=str(case.get("issue_code") or ""),
        created_at=_moment(case["created_at"], "created_at"),
        stage=str(case.get("stage") or case.get("status") or ""),
        escalated=bool(case.get("escalated")),
        calls=len(case.get("call_ids") or ()),
        first_response_seconds=_seconds(case, "time_to_first_response_seconds", "first_response_at"),
        resolution_seconds=_seconds(case, "time_to_resolution_seconds", "resolved_at"),
        sla_breach=str(case.get("sla_breach") or ""),
    )


def rating_of(data: dict) -> Rating | None:
    """The rating in a survey_answered event; None for a poll (not a CSAT or NPS score)."""
    kind = data.get("kind") or ""
    if kind not in SURVEY_KINDS:
        return None
    high = 5 if kind == "csat" else 10
    try:
        score = int(data.get("score"))
    except (TypeError, ValueError) as exc:
        raise InvalidFact(f"the answer's score {data.get('score')!r} is not a number") from exc
    if not (0 if kind == "nps" else 1) <= score <= high:
        raise InvalidFact(f"a {kind} score of {score} is off its scale")
    if not data.get("answer_id"):
        raise InvalidFact("the answer carries no answer_id")
    return Rating(
        answer_id=str(data["answer_id"]),
        case_id=str(data.get("case_id") or ""),
        kind=kind,
        score=score,
        answered_at=_moment(data.get("answered_at") or "", "answered_at"),
        team=str(data.get("team") or ""),
        agent=str(data.get("agent") or ""),
        channel=str(data.get("channel") or ""),
    )


def to_record(fact: CaseWork | Rating) -> dict:
    """JSON-ready, with its times in ISO form; nothing in it about the consumer."""
    found = asdict(fact)
    for name, value in found.items():
        if isinstance(value, datetime):
            found[name] = value.isoformat()
    return found


def _from_record(kind, record: dict, times: tuple[str, ...]):
    try:
        values = {f.name: record[f.name] for f in dataclass_fields(kind)}
        for name in times:
            values[name] = datetime.fromisoformat(values[name])
        return kind(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFact(f"the logged {kind.__name__} is incomplete or malformed: {exc}") from exc


def work_from_record(record: dict) -> CaseWork:
    return _from_record(CaseWork, record, ("created_at",))


def rating_from_record(record: dict) -> Rating:
    return _from_record(Rating, record, ("answered_at",))
