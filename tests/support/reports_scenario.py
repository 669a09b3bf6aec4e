"""A small floor, hand-worked, for the operational reports: cases as casework's events carry them and
survey answers as outreach's `survey_answered` carries them, relative to a moment `now`.

Team A (ada): three complaint.quality cases created five days ago,
  - first response 1 h, resolved at 2 h, first response breached;
  - first response 2 h, resolved at 4 h;
  - first response 3 h, still in progress, resolution breached.
Team B (bob): one praise case resolved on the call at 0.5 h (first-contact resolution), and one new
  complaint.taste case two hours old, not answered yet.

So, over everything: first response median 1.5 h (of 0.5, 1, 2, 3) and p90 2.7 h; resolution median 2 h
(of 0.5, 2, 4) and p90 3.6 h; 2 breaches of 5 cases (40 %); 1 first-contact resolution of 3 resolved
(33.3 %); a backlog of 2: one under a day, one of 3-7 days.
CSAT (ada's cases) 5, 4, 3, 1: 2 of 4 satisfied (50 %), mean 3.25. NPS 10, 9, 8, 6, 0 on ada's, 10 on
bob's: 3 promoters, 1 passive, 2 detractors of 6, NPS 16.7 (ada alone: 0.0; bob alone: 100.0).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

HOUR = 3600.0


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def worked_case(
    now: datetime,
    *,
    team: str,
    agent: str,
    issue: str,
    age: timedelta,
    first_response_h: float | None,
    resolved_h: float | None,
    stage: str,
    channel: str = "phone",
    breach: str = "",
    calls: int = 1,
) -> dict:
    created = now - age
    case = {
        "id": str(uuid.uuid4()),
        "consumer_id": str(uuid.uuid4()),
        "channel": channel,
        "product": {"sku": "OAT-500", "lot_code": "L1", "purchase_location": "Springfield, IL"},
        "issue_code": issue,
        "verbatim": "the consumer's own words",
        "reporter": {"name": "Pat Consumer", "email": "pat@example.org"},
        "status": stage,
        "stage": stage,
        "assignee": agent,
        "team": team,
        "call_ids": [str(uuid.uuid4()) for _ in range(calls)],
        "sla_breach": breach,
        "version": 1,
        "occurred_at": stamp(created),
        "created_at": stamp(created),
    }
    if first_response_h is not None:
        case["first_response_at"] = stamp(created + timedelta(hours=first_response_h))
        case["time_to_first_response_seconds"] = first_response_h * HOUR
    if resolved_h is not None:
        case["resolved_at"] = stamp(created + timedelta(hours=resolved_h))
        case["time_to_resolution_seconds"] = resolved_h * HOUR
    return case


def cases(now: datetime) -> list[dict]:
    old, ada, bob = timedelta(days=5), {"team": "A", "agent": "ada"}, {"team": "B", "agent": "bob"}
    quality = "complaint.quality.foreign_object"
    return [
        worked_case(now, **ada, issue=quality, age=old, first_response_h=1, resolved_h=2, stage="resolved",
                    breach="first_response"),
        worked_case(now, **ada, issue=quality, age=old, first_response_h=2, resolved_h=4, stage="closed",
                    channel="email", calls=0),
        worked_case(now, **ada, issue=quality, age=old, first_response_h=3, resolved_h=None,
                    stage="in_progress", breach="resolution"),
        worked_case(now, **bob, issue="compliment.product", age=timedelta(hours=1), first_response_h=0.5,
                    resolved_h=0.5, stage="resolved"),
        worked_case(now, **bob, issue="complaint.taste", age=timedelta(hours=2), first_response_h=None,
                    resolved_h=None, stage="new"),
    ]  # fmt: skip


def answer(case: dict, kind: str, score: int, answered_at: datetime) -> dict:
    """A `survey_answered` event's data, exactly the fields docs/outreach.md lists."""
    return {
        "answer_id": str(uuid.uuid4()),
        "survey_id": str(uuid.uuid4()),
        "case_id": case["id"],
        "consumer_id": case["consumer_id"],
        "kind": kind,
        "score": score,
        "answered_at": stamp(answered_at),
        "team": case["team"],
        "agent": case["assignee"],
        "channel": case["channel"],
    }


def answers(now: datetime, worked: list[dict]) -> list[dict]:
    ada, bob = worked[0], worked[3]
    when = now - timedelta(days=1)
    return [
        *(answer(ada, "csat", s, when) for s in (5, 4, 3, 1)),
        *(answer(ada, "nps", s, when) for s in (10, 9, 8, 6, 0)),
        answer(bob, "nps", 10, when),
    ]
