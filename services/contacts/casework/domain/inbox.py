"""The inbox: assignment rules that route open cases of every channel to a team and a skill, the order
cases are worked in (the SLA due time), and a team's workload per agent.

A rule's conditions are a channel, a language (a primary tag such as `fr` also matches `fr-CA`) and an
issue prefix; empty conditions match anything. The first active rule by position (then id) whose
conditions all hold routes the case to its team (empty: the team that captured it) and, when it names a
skill, to the agents with that skill. A case no rule routes stays with the team that captured it, and a
case with no team either (a message from the website or by email) is in every agent's inbox, so nothing
waits unseen. Skills are the console's: each agent's list, sent with their inbox request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contacts.casework.domain import fields
from services.contacts.casework.exceptions import InvalidInput

DUE_SOON = timedelta(hours=1)
_NAME = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,63}$")
_SKILL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_PREFIX = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class InboxRule:
    id: str
    name: str
    position: int = 100
    channel: str = ""
    language: str = ""
    issue_prefix: str = ""
    team: str = ""
    skill: str = ""
    active: bool = True

    @classmethod
    def clean(cls, given: dict, *, channels: Iterable[str]) -> InboxRule:
        """A checked rule from a request; raises InvalidInput naming the field."""
        name = fields.text(given.get("name"), "name", limit=80)
        if not name:
            raise InvalidInput("name: what the rule is for, such as 'French letters to care-fr'")
        channel = fields.text(given.get("channel"), "channel", limit=16)
        if channel and channel not in tuple(channels):
            raise InvalidInput(f"channel: one of {', '.join(channels)}, or empty for any")
        language = fields.text(given.get("language"), "language", limit=35)
        if language:
            language = fields.a_language(language)
        prefix = fields.text(given.get("issue_prefix"), "issue_prefix", limit=200)
        if prefix and not _PREFIX.match(prefix):
            raise InvalidInput(
                "issue_prefix: an issue code or the beginning of one, such as complaint.quality"
            )
        team = fields.text(given.get("team"), "team", limit=64)
        if team and not _NAME.match(team):
            raise InvalidInput("team: a team name of printable characters")
        skill = fields.text(given.get("skill"), "skill", limit=40).lower()
        if skill and not _SKILL.match(skill):
            raise InvalidInput("skill: lower-case letters, digits, '_', '.' or '-', such as 'medical'")
        if not (team or skill):
            raise InvalidInput("team, skill: a rule routes to a team, a skill, or both")
        position = given.get("position", 100)
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 100_000:
            raise InvalidInput("position: a whole number from 0 to 100000; lower runs first")
        rule_id = fields.an_id(given.get("id"), "id") or str(uuid.uuid4())
        active = given.get("active", True)
        if not isinstance(active, bool):
            raise InvalidInput("active: true or false")
        return cls(rule_id, name, position, channel, language, prefix, team, skill, active)


def skills_of(given: Iterable[str]) -> list[str]:
    """An agent's skills as their inbox request lists them, checked."""
    found = []
    for skill in given:
        if not _SKILL.match(skill):
            raise InvalidInput(f"skills: {skill[:40]!r} is not a skill name")
        found.append(skill)
    if len(found) > 50:
        raise InvalidInput("skills: at most 50")
    return found


def due_of(*, first_response_at, response_due_at, resolution_due_at) -> datetime | None:
    """The SLA time a case is worked by: its response due time until someone answers, then its
    resolution due time."""
    if first_response_at is None and response_due_at is not None:
        return response_due_at
    return resolution_due_at


@dataclass(frozen=True)
class Load:
    """One agent's open work: cases assigned or claimed, and open follow-ups."""

    agent: str
    open_cases: int = 0
    open_follow_ups: int = 0
    due_soon: int = 0
    overdue: int = 0
    claimed: int = 0


def workload(
    agents: Iterable[str],
    *,
    cases: Iterable[tuple[str, datetime | None]],
    follow_ups: Iterable[tuple[str, datetime]],
    claimed: Iterable[str],
    now: datetime,
    soon: timedelta = DUE_SOON,
) -> list[Load]:
    """Each listed agent's load, in the order given: `cases` are (assignee, SLA due time) of open cases,
    `follow_ups` (assignee, due time) of open follow-ups, `claimed` the holder of each standing claim.
    Due soon: within `soon`; overdue: past due. A case and a follow-up count each."""
    counts = {
        agent: {"open_cases": 0, "open_follow_ups": 0, "due_soon": 0, "overdue": 0, "claimed": 0}
        for agent in agents
    }

    def tally(agent: str, kind: str, due: datetime | None) -> None:
        if agent not in counts:
            return
        counts[agent][kind] += 1
        if due is None:
            return
        if due <= now:
            counts[agent]["overdue"] += 1
        elif due <= now + soon:
            counts[agent]["due_soon"] += 1

    for agent, due in cases:
        tally(agent, "open_cases", due)
    for agent, due in follow_ups:
        tally(agent, "open_follow_ups", due)
    for agent in claimed:
        if agent in counts:
            counts[agent]["claimed"] += 1
    return [Load(agent, **tallies) for agent, tallies in counts.items()]
