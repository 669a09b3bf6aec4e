"""Rules of access that depend on the case, the call or the query, and not only on the caller's role
(the role's permissions are services/runtime/permissions.py; these come after them).

- Search. An agent gets a page of at most 20 and must name someone or something specific: a consumer, a
  case number, a phone number, or a name together with another filter; no listing of the centre. A
  supervisor gets a page of 50; without a specific query they see their own team's cases only. An analyst
  gets a page of 200 over products, lots, issues, dates and words, never by person, and every case comes
  back with its personal data removed (reporter, consumer, notes, calls; the verbatim's emails and numbers
  masked and the reporter's name struck out). An admin does no case work.
- Moving a case to another consumer. Attaching a case that has no consumer is capture work, open to anyone
  who works cases. Moving one that has a consumer is open to the agent who captured it, within 30 minutes
  of capturing it, unless it is escalated or health-and-safety; otherwise only to a supervisor of the team
  that captured it (or any supervisor, for a case no team captured: the web form's, a filed call's).
- Calls. A filed call is linked to a case, or its recording played, only by the person at the extension
  that took it, or by a supervisor whose team has that extension. A call not filed yet (still in progress)
  may be linked by a person sitting at an extension: that is the capture made during the call; its
  recording stays behind the same rule once it is filed. Playing a recording is a supervisor's (the
  console's `recordings.play`), so an agent never plays one, even of their own call.

A caller with the role `service` is another CRS service acting on its own account; these rules do not
apply to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.contacts.casework.exceptions import Forbidden, InvalidInput
from services.runtime.logs import redact

SERVICE = "service"
CASE_WORKERS = ("agent", "supervisor")
MOVE_WINDOW = timedelta(minutes=30)
PAGE = {"agent": 20, "supervisor": 50, "analyst": 200, SERVICE: 200}
# How deep an agent may page into a specific query's answers.
AGENT_DEPTH = 100
REDACTED_NAME = "[name]"
MIN_NAME = 2  # letters of a reporter's name that, with another filter, make a search particular


@dataclass(frozen=True)
class Actor:
    """Who is acting, as casework's rules need to know them."""

    username: str
    role: str = SERVICE
    extension: str = ""
    team: str = ""
    team_extensions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, who: Actor | str) -> Actor:
        """A bare username is a service acting for itself (the bus, the web form, the sweep)."""
        return who if isinstance(who, Actor) else cls(username=who)

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE

    def took(self, extension: str) -> bool:
        """The call at `extension` is theirs: their own desk, or for a supervisor a desk of their team."""
        if not extension:
            return False
        if self.extension and extension == self.extension:
            return True
        return self.role == "supervisor" and extension in self.team_extensions


def _a(role: str) -> str:
    return ("an " if role[:1] in "aeiou" else "a ") + role


def _works_cases(actor: Actor) -> None:
    if not actor.is_service and actor.role not in CASE_WORKERS:
        raise Forbidden(f"{_a(actor.role)} does no case work")


# -- moving a case --


def check_move(case, consumer_id: str | None, *, actor: Actor, sensitive: bool, now: datetime) -> None:
    """Refuse, with the reason, a change of the consumer a case belongs to that `actor` may not make."""
    if consumer_id == case.consumer_id or case.consumer_id is None or actor.is_service:
        return
    _works_cases(actor)
    if actor.role == "supervisor":
        if not case.team or case.team == actor.team:
            return
        raise Forbidden(
            "only a supervisor of the team that captured this case may move it to another consumer"
        )
    recent = case.created_at is not None and now - case.created_at <= MOVE_WINDOW
    if case.created_by == actor.username and recent and not sensitive:
        return
    minutes = int(MOVE_WINDOW.total_seconds() // 60)
    raise Forbidden(
        f"an agent may move a case to another consumer only within {minutes} minutes of capturing it,"
        " and never an escalated or health-and-safety case: ask a supervisor of the team"
    )


# -- calls --


def check_link(*, actor: Actor, call_extension: str | None) -> None:
    """Refuse linking a call `actor` did not take; `call_extension` is None for a call not filed yet."""
    if actor.is_service:
        return
    _works_cases(actor)
    if call_extension is None:
        if actor.extension:
            return
        raise Forbidden("this call is not filed yet: only the person at the extension taking it may link it")
    if not actor.took(call_extension):
        raise Forbidden(
            "you may link only a call you took at your extension or, as a supervisor, a call of your team"
        )


def check_playback(*, actor: Actor, call_extension: str) -> None:
    """Refuse playing the recording of a call that is not of `actor`'s team."""
    if actor.is_service:
        return
    if actor.role != "supervisor":
        raise Forbidden("only a supervisor plays recordings")
    if not actor.took(call_extension):
        raise Forbidden("this recording is of a call outside your team")


# -- search --


def _specific(query) -> bool:
    """The query names one consumer, one case or one caller, not a slice of the centre."""
    if query.consumer_id or query.reference or query.reporter_phone:
        return True
    others = (
        query.text,
        query.issue_code,
        query.product,
        query.lot_code,
        query.start,
        query.end,
    )
    return len(query.reporter_name.strip()) >= MIN_NAME and any(others)


def search_scope(query, *, actor: Actor):
    """The query as `actor` may run it (their page size, their team), or the reason they may not."""
    if actor.role not in PAGE:
        raise Forbidden(f"{_a(actor.role)} does no case work")
    page = PAGE[actor.role]
    limit = query.limit or page
    if limit > page:
        raise InvalidInput(f"limit: {_a(actor.role)}'s page is at most {page}")
    query = replace(query, limit=limit)
    if actor.is_service:
        return query
    if actor.role == "analyst":
        if query.consumer_id or query.reporter_phone or query.reporter_name or query.reference:
            raise Forbidden("an analyst searches by product, lot, issue, dates and words, never by person")
        return query
    if _specific(query):
        if actor.role == "agent" and query.offset + limit > AGENT_DEPTH:
            raise InvalidInput(f"offset: an agent pages at most {AGENT_DEPTH} cases deep; narrow the search")
        return query
    if actor.role == "supervisor" and actor.team:
        return replace(query, team=actor.team)
    who = "an agent" if actor.role == "agent" else "a supervisor without a team"
    raise Forbidden(
        f"{who} searches for a particular case: give a consumer, a case number, a phone number,"
        " or a name with another filter"
    )


def shown(cases: list, *, actor: Actor) -> list:
    """The cases as `actor` may see them: an analyst's without personal data."""
    if actor.role != "analyst":
        return cases
    return [_redacted(case) for case in cases]


def _redacted(case):
    verbatim = redact(case.verbatim)
    for word in sorted(set(re.findall(r"\w{2,}", case.reporter.name)), key=len, reverse=True):
        verbatim = re.sub(rf"\b{re.escape(word)}\b", REDACTED_NAME, verbatim, flags=re.IGNORECASE)
    return replace(
        case,
        consumer_id=None,
        reporter=type(case.reporter)(),
        verbatim=verbatim,
        notes="",
        call_id=None,
        call_ids=[],
        timeline=[],
        events=[],
        calls_linked=[],
    )
