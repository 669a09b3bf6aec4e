"""Follow-up tasks on a case: a text, an assignee and a due time ("call back Tuesday", "chase QA for the
lab result"), open until completed or cancelled. When one comes due, its assignee is reminded once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.contacts.casework.domain import fields
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.exceptions import Forbidden, InvalidInput, Refused

STATES = ("open", "done", "cancelled")
MAX_TEXT = 500
# How far ahead a follow-up may be set: a year, as a regulator's follow-up is due within one.
HORIZON = timedelta(days=366)
_USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


@dataclass(frozen=True)
class FollowUp:
    id: str
    case_id: str
    assignee: str
    text: str
    due_at: datetime
    created_by: str
    created_at: datetime
    state: str = "open"
    closed_by: str = ""
    closed_at: datetime | None = None
    reminded_at: datetime | None = None

    @classmethod
    def new(cls, *, case_id: str, assignee: str, text: str, due_at, actor: Actor, now: datetime) -> FollowUp:
        """A checked new follow-up; an agent sets them for themselves, a supervisor for anyone."""
        assignee = (assignee or actor.username).strip()
        if not _USERNAME.match(assignee):
            raise InvalidInput("assignee: a username of 1 to 64 letters, digits or ._@+-")
        if assignee != actor.username and actor.role not in ("supervisor", "admin", "service"):
            raise Forbidden("an agent sets follow-ups for themselves; a supervisor sets them for others")
        body = fields.text(text, "text", limit=MAX_TEXT)
        if not body:
            raise InvalidInput("text: say what is to be done, such as 'call back Tuesday'")
        due = fields.a_time(due_at, "due_at")
        if due is None:
            raise InvalidInput("due_at: when it is due, such as 2026-05-01T09:30:00Z")
        if due > now + HORIZON:
            raise InvalidInput("due_at: at most a year ahead")
        return cls(
            id=str(uuid.uuid4()),
            case_id=case_id,
            assignee=assignee,
            text=body,
            due_at=due,
            created_by=actor.username,
            created_at=now,
        )

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def close(self, state: str, *, actor: Actor, now: datetime) -> FollowUp:
        """Done or cancelled, by its assignee, its author or a supervisor; an ended one stays as it was."""
        if state not in ("done", "cancelled"):
            raise InvalidInput("state: done or cancelled")
        if not self.is_open:
            raise Refused(f"this follow-up is {self.state} already")
        mine = actor.username in (self.assignee, self.created_by)
        if not mine and actor.role not in ("supervisor", "admin"):
            raise Forbidden(f"this follow-up is {self.assignee}'s; they or a supervisor may close it")
        return replace(self, state=state, closed_by=actor.username, closed_at=now)

    def due(self, now: datetime) -> bool:
        """Open, due, and not yet reminded: its reminder is to fire."""
        return self.is_open and self.reminded_at is None and self.due_at <= now

    def reminded(self, now: datetime) -> FollowUp:
        return replace(self, reminded_at=now)
