"""Demo data for the operational reports, part of `crs seed --demo` (seed.py): twelve weeks of cases as
the demo team worked them (ada and ben of care-1, and web-form cases nobody has taken yet) and the CSAT and
NPS answers their consumers gave, so that after `make run` the Reports page has figures by team, agent,
channel and issue.

Like the demo contacts they are insights' own: logged in `event_log` with the source "demo" (a rebuild
keeps them), with no case behind them in casework, and nothing about any consumer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from services.insights.domain.work import CaseWork, Rating

NAMESPACE = uuid.UUID("a9c7e4f2-51b3-4c8e-9d62-3f0b8e1a7c55")
WEEKS = 12
TEAM = "care-1"
# agent: (share of the cases, CSAT scores 1-5 and NPS scores 0-10 with their chances)
AGENTS = {"ada": 0.5, "ben": 0.4, "": 0.1}  # "": not taken yet
CSAT = {"ada": [0.02, 0.03, 0.10, 0.35, 0.50], "ben": [0.08, 0.10, 0.17, 0.35, 0.30]}
NPS_PROMOTER = {"ada": 0.55, "ben": 0.35}
CHANNELS = {"phone": 0.5, "email": 0.2, "web": 0.2, "letter": 0.05, "chat": 0.05}
ISSUES = {
    "complaint.quality.taste_odour": 0.3,
    "complaint.packaging.damaged": 0.2,
    "complaint.illness_injury.illness": 0.05,
    "question.where_to_buy": 0.25,
    "compliment.product": 0.2,
}
PER_DAY = 14
HOUR = 3600.0
FIRST_RESPONSE_DUE = 24 * HOUR
RESOLUTION_DUE = 5 * 24 * HOUR


def _pick(rng, options: dict) -> str:
    return str(rng.choice(list(options), p=list(options.values())))


def worked_case(rng, n: int, created: datetime, now: datetime) -> CaseWork:
    channel, agent = _pick(rng, CHANNELS), _pick(rng, AGENTS)
    live = channel in ("phone", "chat")
    age = (now - created).total_seconds()
    if not agent and age > 3 * 24 * HOUR:
        agent = "ada" if rng.random() < 0.5 else "ben"  # the web-form queue is taken within days
    if live and agent and rng.random() < 0.7:
        # Taken and resolved on the call: first response and resolution at one moment.
        first = resolved = float(rng.uniform(120, 1500))
    else:
        first = float(rng.lognormal(np.log(4 * HOUR if live else 10 * HOUR), 0.9))
        resolved = first + float(rng.lognormal(np.log(30 * HOUR), 0.8))
    first_seen = first if agent and first < age else None
    resolved_seen = resolved if first_seen is not None and resolved < age else None
    breach = ""
    if (first_seen or age) > FIRST_RESPONSE_DUE:
        breach = "first_response"
    elif (resolved_seen or age) > RESOLUTION_DUE:
        breach = "resolution"
    stage = "resolved" if resolved_seen is not None else ("in_progress" if first_seen else "new")
    return CaseWork(
        case_id=str(uuid.uuid5(NAMESPACE, f"case-{n}")),
        team=TEAM if agent else "",
        agent=agent,
        channel=channel,
        issue_code=_pick(rng, ISSUES),
        created_at=created,
        stage=stage,
        escalated=bool(rng.random() < 0.03),
        calls=1 if live else 0,
        first_response_seconds=first_seen,
        resolution_seconds=resolved_seen,
        sla_breach=breach,
    )


def rating(rng, work: CaseWork, kind: str) -> Rating:
    if kind == "csat":
        score = int(rng.choice(5, p=CSAT[work.agent])) + 1
    elif rng.random() < NPS_PROMOTER[work.agent]:
        score = int(rng.integers(9, 11))
    else:
        score = int(rng.integers(0, 9))
    answered = work.created_at + timedelta(seconds=(work.resolution_seconds or 0) + 86400)
    return Rating(
        answer_id=str(uuid.uuid5(NAMESPACE, f"{kind}-{work.case_id}")),
        case_id=work.case_id,
        kind=kind,
        score=score,
        answered_at=answered,
        team=work.team,
        agent=work.agent,
        channel=work.channel,
    )


def demo(today: date) -> tuple[list[CaseWork], list[Rating]]:
    rng = np.random.default_rng(5)
    now = datetime.combine(today, time(12), UTC)
    cases: list[CaseWork] = []
    for day in range(WEEKS * 7, -1, -1):
        moment = datetime.combine(today - timedelta(days=day), time(8), UTC)
        for _ in range(int(rng.poisson(PER_DAY))):
            created = moment + timedelta(seconds=float(rng.uniform(0, 10 * HOUR)))
            if created < now:
                cases.append(worked_case(rng, len(cases), created, now))
    ratings = []
    for work in cases:
        answered = work.created_at + timedelta(seconds=(work.resolution_seconds or 0) + 86400)
        if work.resolution_seconds is None or not work.agent or answered > now:
            continue
        if rng.random() < 0.3:
            ratings.append(rating(rng, work, "csat"))
        if rng.random() < 0.15:
            ratings.append(rating(rng, work, "nps"))
    return cases, ratings
