"""The inbox's use cases: claim and release a case, add and close follow-ups, fire their reminders, edit
the assignment rules. Each runs in casework's unit of work (service.UnitOfWork) and commits explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from services.contacts.casework.domain import claims, fields
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.domain.case import OPEN_STAGES
from services.contacts.casework.domain.claims import Claim
from services.contacts.casework.domain.codes import CachedCodeBook
from services.contacts.casework.domain.follow_ups import FollowUp
from services.contacts.casework.domain.inbox import InboxRule
from services.contacts.casework.exceptions import InvalidInput, NotFound, Refused
from services.contacts.casework.service import UnitOfWork, utc_now
from services.runtime.events import Event

log = logging.getLogger(__name__)
REMINDER_BATCH = 200


class InboxRepository(Protocol):
    async def claim_of(self, case_id: str) -> Claim | None: ...

    async def put_claim(self, claim: Claim) -> None: ...

    async def drop_claim(self, case_id: str) -> None: ...

    async def follow_up(self, follow_up_id: str) -> FollowUp | None: ...

    async def add_follow_up(self, follow_up: FollowUp) -> None: ...

    async def save_follow_up(self, follow_up: FollowUp) -> None: ...

    async def due_follow_ups(self, now: datetime, limit: int) -> list[FollowUp]: ...

    async def put_rule(self, rule: InboxRule, *, actor: str) -> None: ...


class Inbox:
    """Claims, follow-ups and rules. `reminder` builds the event a due follow-up puts in the outbox."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        codes: CachedCodeBook,
        channels: tuple[str, ...],
        reminder: Callable[[FollowUp], Event],
        clock: Callable[[], datetime] = utc_now,
    ):
        self.unit_of_work = unit_of_work
        self.codes = codes
        self.channels = channels
        self.reminder = reminder
        self.clock = clock

    async def open_statuses(self) -> list[str]:
        book = await self.codes.get()
        return [code for code, row in book.statuses.items() if row["stage"] in OPEN_STAGES]

    @staticmethod
    async def _answerable(uow: UnitOfWork, case_id: str, book):
        """The case, locked, unless it is closed (a resolved case may still be answered, and reopened)."""
        checked = fields.an_id(case_id, "case_id")
        if checked is None:
            raise InvalidInput("case_id: which case?")
        case = await uow.cases.get(checked)
        if case is None or not case.coded:
            raise NotFound(f"no case {checked}")
        if case.stage(book) == "closed":
            raise Refused(f"case {case.reference} is closed: there is nothing to answer")
        return case

    async def claim(self, *, case_id: str, actor: Actor, minutes: int = 0) -> Claim:
        """Take the case to answer it, or the refusal naming who holds it. The case's row is locked first,
        so a claim made at the same moment waits and then sees this one."""
        if minutes and not 1 <= minutes <= 480:
            raise InvalidInput("minutes: from 1 to 480")
        book = await self.codes.get()
        now = self.clock()
        async with self.unit_of_work() as uow:
            case = await self._answerable(uow, case_id, book)
            claim = claims.take(
                await uow.inbox.claim_of(case.id),
                case_id=case.id,
                actor=actor,
                assignee=case.assignee,
                now=now,
                ttl=timedelta(minutes=minutes) if minutes else claims.CLAIM_TTL,
            )
            await uow.inbox.put_claim(claim)
            await uow.commit()
        log.info("case %s claimed by %s until %s", case.reference, claim.agent, claim.expires_at)
        return claim

    async def release(self, *, case_id: str, actor: Actor, may_release_others: bool) -> Claim:
        """End the standing claim: the holder's own, or anyone's for a supervisor."""
        checked = fields.an_id(case_id, "case_id")
        if checked is None:
            raise InvalidInput("case_id: which case?")
        now = self.clock()
        async with self.unit_of_work() as uow:
            case = await uow.cases.get(checked)
            if case is None:
                raise NotFound(f"no case {checked}")
            held = claims.check_release(
                await uow.inbox.claim_of(case.id), actor=actor, may_release_others=may_release_others, now=now
            )
            await uow.inbox.drop_claim(case.id)
            await uow.commit()
        return held

    async def add_follow_up(
        self, *, case_id: str, assignee: str, text: str, due_at, actor: Actor
    ) -> FollowUp:
        book = await self.codes.get()
        now = self.clock()
        async with self.unit_of_work() as uow:
            case = await self._answerable(uow, case_id, book)
            claims.check_may_change(await uow.inbox.claim_of(case.id), actor=actor, now=now)
            follow_up = FollowUp.new(
                case_id=case.id, assignee=assignee, text=text, due_at=due_at, actor=actor, now=now
            )
            await uow.inbox.add_follow_up(follow_up)
            await uow.commit()
        return follow_up

    async def close_follow_up(self, *, follow_up_id: str, state: str, actor: Actor) -> FollowUp:
        checked = fields.an_id(follow_up_id, "id")
        if checked is None:
            raise InvalidInput("id: which follow-up?")
        async with self.unit_of_work() as uow:
            found = await uow.inbox.follow_up(checked)
            if found is None:
                raise NotFound(f"no follow-up {checked}")
            closed = found.close(state, actor=actor, now=self.clock())
            await uow.inbox.save_follow_up(closed)
            await uow.commit()
        return closed

    async def fire_reminders(self, *, now: datetime | None = None) -> int:
        """Remind the assignee of each open follow-up now due, once: the mark and the reminder's event
        commit together, so a restart neither repeats nor loses one. Returns how many fired."""
        now = now or self.clock()
        fired = 0
        while True:
            async with self.unit_of_work() as uow:
                due = [f for f in await uow.inbox.due_follow_ups(now, REMINDER_BATCH) if f.due(now)]
                for follow_up in due:
                    reminded = follow_up.reminded(now)
                    await uow.inbox.save_follow_up(reminded)
                    await uow.publish([self.reminder(reminded)])
                await uow.commit()
            fired += len(due)
            if len(due) < REMINDER_BATCH:
                return fired

    async def put_rule(self, given: dict, *, actor: Actor) -> InboxRule:
        rule = InboxRule.clean(given, channels=self.channels)
        if rule.issue_prefix and rule.issue_prefix not in (await self.codes.get()).issues:
            raise InvalidInput(f"issue_prefix: {rule.issue_prefix!r} is not an issue code")
        async with self.unit_of_work() as uow:
            await uow.inbox.put_rule(rule, actor=actor.username)
            await uow.commit()
        return rule
