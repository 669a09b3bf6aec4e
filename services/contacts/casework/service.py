"""Casework's use cases: each loads a case in a unit of work, lets the Case apply the rule, and commits.

The unit of work is abstract (`UnitOfWork` below): PostgreSQL in the process (store.PostgresUnitOfWork),
an in-memory fake in the unit tests. It rolls back unless `commit()` is called, so a use case that raises
leaves nothing behind: no row, no timeline entry, no event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from services.contacts.casework.capture import GroupCapture
from services.contacts.casework.domain import access, claims, fields
from services.contacts.casework.domain import codes as code_tables
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.domain.calls import EndedCall, PauseChange
from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.codes import CachedCodeBook
from services.contacts.casework.domain.fulfillments import FulfillmentChange
from services.contacts.casework.exceptions import InvalidInput, NotFound
from services.contacts.casework.notifier import Notifier
from services.contacts.interfaces import ConsumerLookup
from services.runtime.events import Event

log = logging.getLogger(__name__)
SWEEP_BATCH = 200


class CaseRepository(Protocol):
    async def get(self, case_id: str) -> Case | None: ...

    async def uncoded_call(self, call_id: str) -> Case | None: ...

    async def call_extension(self, call_id: str) -> str | None:
        """The extension that took a filed call ('' when telephony named none); None when not filed."""

    async def add(self, cases: list[Case]) -> None: ...

    async def save(self, case: Case) -> None: ...

    async def due_for_breach(self, now: datetime, limit: int) -> list[Case]: ...

    async def unidentified_caller(self, caller_key: str) -> str: ...

    async def file_call(
        self, call: EndedCall, *, consumer_id: str | None, unidentified_caller_id: str | None
    ) -> str | None: ...

    async def record_pause_change(self, change: PauseChange) -> bool: ...

    async def save_fulfillments(self, case: Case) -> None:
        """Keep what the case heard of its fulfillments, without a new version of the case."""

    async def upsert_code(self, kind: str, row: dict) -> None: ...


class InboxClaims(Protocol):
    """What a change of a case asks of the inbox (the whole of it: inbox_service.InboxRepository)."""

    async def claim_of(self, case_id: str) -> claims.Claim | None: ...


class UnitOfWork(Protocol):
    """One transaction: what is written through `cases` and `publish` stays only if `commit()` is called."""

    cases: CaseRepository
    inbox: InboxClaims

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc) -> None: ...

    async def publish(self, events: list[Event]) -> None: ...

    async def commit(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Casework:
    """The casework use cases. Each returns the case as it now stands."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        codes: CachedCodeBook,
        consumers: ConsumerLookup,
        rules: Mapping[str, fields.FieldRule],
        notifier: Notifier | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.unit_of_work = unit_of_work
        self.codes = codes
        self.consumers = consumers
        self.rules = rules
        self.notifier = notifier or Notifier()
        self.clock = clock
        self.capture = GroupCapture(
            unit_of_work=unit_of_work, publish=self._events_of, one_at_a_time=self._add
        )

    async def _events_of(self, case: Case) -> list[Event]:
        return self.notifier.events_of(case, await self.codes.get())

    async def _check_consumer(self, values: dict) -> None:
        consumer_id = values.get("consumer_id")
        if consumer_id and not await self.consumers.exists(consumer_id):
            raise InvalidInput("consumer_id: no consumer has this id")

    async def _add(self, case: Case) -> Case:
        """Write one new case in a unit of work of its own."""
        async with self.unit_of_work() as uow:
            await uow.cases.add([case])
            await uow.publish(await self._events_of(case))
            await uow.commit()
        case.settle()
        return case

    async def _changed(self, uow: UnitOfWork, case: Case) -> Case:
        await uow.cases.save(case)
        await uow.publish(await self._events_of(case))
        await uow.commit()
        case.settle()
        return case

    async def _unclaimed(self, uow: UnitOfWork, case: Case, who: Actor) -> None:
        """Refuse a person's change to a case another person has claimed to answer (domain/claims.py)."""
        claims.check_may_change(await uow.inbox.claim_of(case.id), actor=who, now=self.clock())

    @staticmethod
    async def _locked(uow: UnitOfWork, case_id: str) -> Case:
        checked = fields.an_id(case_id, "id")
        if checked is None:
            raise InvalidInput("id: which case?")
        case = await uow.cases.get(checked)
        if case is None:
            raise NotFound(f"no case {checked}")
        return case

    async def create(self, *, data: dict, actor: Actor | str, call_id: str | None = None) -> Case:
        """Capture a case. With a call id, the call's own filed contact becomes the case, or the call is
        linked to it when the call is not filed yet; either only for a call the actor took."""
        who = Actor.of(actor)
        book = await self.codes.get()
        now = self.clock()
        values = fields.clean(data, self.rules, now=now)
        await self._check_consumer(values)
        if call_id is None:
            case = Case.capture(values, book=book, actor=who.username, now=now)
            case.team = who.team
            return await self.capture.capture(case)
        call_id = fields.a_call_id(call_id)
        async with self.unit_of_work() as uow:
            access.check_link(actor=who, call_extension=await uow.cases.call_extension(call_id))
            filed = await uow.cases.uncoded_call(call_id)
            if filed is None:
                case = Case.capture(values, book=book, actor=who.username, now=now, call_id=call_id)
                case.team = who.team
                await uow.cases.add([case])
                await uow.publish(await self._events_of(case))
                await uow.commit()
                case.settle()
                return case
            filed.code_filed_call(values, book=book, actor=who.username, now=now)
            filed.team = who.team
            return await self._changed(uow, filed)

    async def update(
        self,
        *,
        case_id: str,
        data: dict,
        fields_named: set[str],
        actor: Actor | str,
        expected_version: int | None = None,
    ) -> Case:
        """Change the named fields of a case; moving it to another consumer only as access.check_move says."""
        who = Actor.of(actor)
        if not fields_named:
            raise InvalidInput("update_mask: name the fields to change")
        book = await self.codes.get()
        values = fields.clean(data, self.rules, only=fields_named, now=self.clock())
        await self._check_consumer(values)
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            if "consumer_id" in values:
                sensitive = case.escalated or (case.coded and book.escalates(case.issue_code))
                access.check_move(
                    case, values["consumer_id"], actor=who, sensitive=sensitive, now=self.clock()
                )
            if not case.update(values, book=book, actor=who.username, expected_version=expected_version):
                return case
            return await self._changed(uow, case)

    async def change_status(
        self,
        *,
        case_id: str,
        status: str,
        note: str,
        actor: Actor | str,
        may_close_escalated: bool = True,
        may_resolve_waiting: bool = True,
    ) -> Case:
        who = Actor.of(actor)
        book = await self.codes.get()
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            case.change_status(
                status,
                book=book,
                note=note,
                actor=who.username,
                now=self.clock(),
                may_close_escalated=may_close_escalated,
                may_resolve_waiting=may_resolve_waiting,
            )
            return await self._changed(uow, case)

    async def fulfillment_changed(self, change: FulfillmentChange) -> bool:
        """Hear of a fulfillment's new state (Case.fulfillment_changed); False when it told nothing new.
        A move of the case's status is a new version with its timeline entry and event; hearing of a
        state that moves nothing is kept without one, so an agent's open edit does not go stale for it."""
        change = change.checked()
        book = await self.codes.get()
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, change.case_id)
            if not case.fulfillment_changed(change, book=book):
                return False
            if case.timeline:
                await self._changed(uow, case)
                return True
            await uow.cases.save_fulfillments(case)
            await uow.commit()
            case.settle()
            return True

    async def escalate(self, *, case_id: str, reason: str, actor: Actor | str) -> Case:
        who = Actor.of(actor)
        book = await self.codes.get()
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            case.escalate(reason, book=book, actor=who.username)
            return await self._changed(uow, case)

    async def assign(self, *, case_id: str, assignee: str, actor: Actor | str) -> Case:
        who = Actor.of(actor)
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            if not case.assign(assignee, actor=who.username):
                return case
            return await self._changed(uow, case)

    async def add_action(self, *, case_id: str, action_code: str, note: str, actor: Actor | str) -> Case:
        who = Actor.of(actor)
        book = await self.codes.get()
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            case.add_action(action_code, book=book, note=note, actor=who.username, now=self.clock())
            return await self._changed(uow, case)

    async def link_call(self, *, case_id: str, call_id: str, actor: Actor | str) -> Case:
        """Link a call to a case: only a call the actor took (access.check_link)."""
        who = Actor.of(actor)
        call_id = fields.a_call_id(call_id)
        async with self.unit_of_work() as uow:
            case = await self._locked(uow, case_id)
            await self._unclaimed(uow, case, who)
            access.check_link(actor=who, call_extension=await uow.cases.call_extension(call_id))
            if not case.link_call(call_id, actor=who.username):
                return case
            return await self._changed(uow, case)

    async def file_call(self, call: EndedCall) -> str | None:
        """File an ended call as an uncoded contact on its caller; None if it was filed before."""
        consumer_id = None
        if not call.withheld and call.number:
            consumer_id = await self.consumers.owner_of(call.number)
        async with self.unit_of_work() as uow:
            unidentified = None if consumer_id else await uow.cases.unidentified_caller(call.caller_key)
            contact_id = await uow.cases.file_call(
                call, consumer_id=consumer_id, unidentified_caller_id=unidentified
            )
            if contact_id is not None:
                await uow.publish(
                    [
                        self.notifier.call_filed(
                            contact_id=contact_id,
                            consumer_id=consumer_id,
                            unidentified_caller_id=unidentified,
                            call_id=call.call_id,
                            recording_key=call.recording_key,
                        )
                    ]
                )
                await uow.commit()
        if consumer_id:
            # Also on a redelivery: the filing may have committed without this.
            await self.consumers.contacted(consumer_id, call.started_at)
        return contact_id

    async def record_pause_change(self, change: PauseChange) -> bool:
        """Keep a pause or resumption of a call's recording for the timelines of the call's cases (those
        linked already and those linked later); False when this event was recorded before."""
        if not change.event_id:
            raise InvalidInput("event_id: which event?")
        fields.a_call_id(change.call_id)
        if not fields.text(change.actor, "by", limit=200):
            raise InvalidInput("by: who paused or resumed the recording?")
        fields.text(change.actor_role, "by_role", limit=40)
        async with self.unit_of_work() as uow:
            recorded = await uow.cases.record_pause_change(change)
            if recorded:
                await uow.commit()
        return recorded

    async def sweep_sla(self, *, now: datetime | None = None) -> int:
        """Flag every open case past a due time; return how many were flagged."""
        now = now or self.clock()
        flagged = 0
        while True:
            async with self.unit_of_work() as uow:
                due = await uow.cases.due_for_breach(now, SWEEP_BATCH)
                for case in due:
                    if case.breach_sla(now=now):
                        await uow.cases.save(case)
                        await uow.publish(await self._events_of(case))
                        flagged += 1
                await uow.commit()
            for case in due:
                case.settle()
            if len(due) < SWEEP_BATCH:
                return flagged

    async def put_code(self, kind: str, given: dict) -> dict:
        """Add or change one code (checked); a code is deactivated with active false, never deleted."""
        row = code_tables.clean_code(kind, given)
        book = await self.codes.get()
        if kind == "issue" and row["parent"] and row["parent"] not in book.issues:
            raise InvalidInput(f"code: its parent {row['parent']!r} does not exist; add the parent first")
        async with self.unit_of_work() as uow:
            await uow.cases.upsert_code(kind, row)
            await uow.commit()
        self.codes.invalidate()
        return row
