"""Fulfillment's requests as a case knows them, from the `fulfillment_<state>` events fulfillment publishes.

A case keeps, per fulfillment, the furthest state it has heard of. A request's states only move forward
(requested, awaiting approval, approved, in progress, shipped, then delivered, cancelled or failed), so an
event that names a state no further than the one kept is a redelivery or arrived late, and changes nothing:
a `delivered` that overtook its `requested` leaves the request ended, whatever arrives after it.

A request is open while the company still owes the consumer an action (fulfillment's own definition, in
services/fulfillment/replies.py): requested, awaiting approval, approved or in progress. Once shipped the
company has done its part; a letter ends there, and a parcel's delivery or loss changes nothing for the case.

`AwaitsFulfillment` is the Case's part that acts on them (docs/casework.md, "Awaiting fulfillment").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from services.contacts.casework.domain.fields import an_id, text
from services.contacts.casework.domain.records import SYSTEM, Entry, Happened, changes_between
from services.contacts.casework.exceptions import Forbidden, InvalidInput, Refused

if TYPE_CHECKING:
    from services.contacts.casework.domain.codes import CodeBook

# Each state and how far along it is; the last three all end a request.
PROGRESS = {
    "requested": 0,
    "awaiting_approval": 1,
    "approved": 2,
    "in_progress": 3,
    "shipped": 4,
    "delivered": 5,
    "cancelled": 5,
    "failed": 5,
}
STATES = tuple(PROGRESS)
OPEN = frozenset({"requested", "awaiting_approval", "approved", "in_progress"})
KINDS = frozenset({"coupon", "refund", "replacement", "sample", "letter", "return_mailer"})
STATE_WORDS = {"awaiting_approval": "awaiting approval", "in_progress": "in progress"}
# The status (and its stage) a case is in while a fulfillment for it is open; fulfillment's events set it.
AWAITING = "awaiting_fulfillment"
# The stages a case waits from, and so the ones it goes back to when the last fulfillment ends.
WAITS_FROM = ("new", "in_progress", "awaiting_consumer")


@dataclass(frozen=True)
class FulfillmentChange:
    """One of fulfillment's events: a request for a case moved to `state`."""

    event_id: str
    fulfillment_id: str
    case_id: str
    kind: str
    state: str
    actor: str = ""

    def checked(self) -> FulfillmentChange:
        if not self.event_id:
            raise InvalidInput("event_id: which event?")
        fulfillment_id = an_id(self.fulfillment_id, "fulfillment_id")
        if fulfillment_id is None:
            raise InvalidInput("fulfillment_id: which fulfillment?")
        case_id = an_id(self.case_id, "case_id")
        if case_id is None:
            raise InvalidInput("case_id: which case?")
        if self.kind not in KINDS:
            raise InvalidInput(f"kind: {self.kind[:40]!r} is not a kind of fulfillment")
        if self.state not in PROGRESS:
            raise InvalidInput(f"state: {self.state[:40]!r} is not a fulfillment state")
        actor = text(self.actor, "actor", limit=200)
        return replace(self, fulfillment_id=fulfillment_id, case_id=case_id, actor=actor)

    @property
    def words(self) -> str:
        """'the coupon (awaiting approval)': what the timeline says of it."""
        kind = self.kind.replace("_", " ")
        state = STATE_WORDS.get(self.state, self.state)
        return f"the {kind} ({state}{f', {self.actor}' if self.actor else ''})"


@dataclass(frozen=True)
class CaseFulfillment:
    """What a case last heard of one of its fulfillments."""

    kind: str
    state: str

    @property
    def open(self) -> bool:
        return self.state in OPEN


def moves_on(state: str, known: CaseFulfillment | None) -> bool:
    """Whether an event naming `state` tells the case something new about a request it knows as `known`."""
    return known is None or PROGRESS[state] > PROGRESS[known.state]


class AwaitsFulfillment:
    """The Case's part that follows its fulfillments: while any is open the case awaits fulfillment, and
    when the last one ends it goes back to the status it had. Mixed into Case (domain/case.py), whose
    fields (status, fulfillments, status_before_fulfillment, timeline, events...) it uses."""

    @property
    def open_fulfillments(self) -> dict[str, CaseFulfillment]:
        """The fulfillments the company still owes the consumer, by id."""
        return {fid: f for fid, f in self.fulfillments.items() if f.open}

    def _check_waiting(self, stage: str, to_stage: str, *, may_resolve_waiting: bool) -> None:
        """A person never moves a case into awaiting fulfillment, nor out of it while the company still owes
        the consumer something; resolving or closing over an open fulfillment is a supervisor's call."""
        if to_stage == AWAITING:
            raise Refused(
                "a case awaits fulfillment by itself while a fulfillment for it is open: request one from the case"
            )
        if not self.open_fulfillments:
            return
        if to_stage in ("resolved", "closed"):
            if not may_resolve_waiting:
                raise Forbidden(
                    f"the consumer is still owed {self._owed()}: the case leaves awaiting fulfillment by itself"
                    " when it has gone out, then resolve it; only a supervisor may resolve it before"
                )
        elif stage == AWAITING:
            back = self.status_before_fulfillment or "in_progress"
            raise Refused(
                f"the case awaits {self._owed()}; it goes back to {back} by itself when the last one ends"
            )

    def fulfillment_changed(self, change: FulfillmentChange, *, book: CodeBook) -> bool:
        """Hear that one of the case's fulfillments moved: while any is open the case awaits fulfillment,
        and when the last one ends it goes back to the status it had. False when the event tells nothing
        new (redelivered, or overtaken by a later state: see domain/fulfillments.py)."""
        if not moves_on(change.state, self.fulfillments.get(change.fulfillment_id)):
            return False
        was_waiting = bool(self.open_fulfillments)
        heard = CaseFulfillment(change.kind, change.state)
        self.fulfillments = {**self.fulfillments, change.fulfillment_id: heard}
        self.fulfillments_heard.append(change.fulfillment_id)
        if self.open_fulfillments and not was_waiting:
            self._await_fulfillment(book, note=f"Waiting on {change.words}")
        elif was_waiting and not self.open_fulfillments:
            self._end_waiting(book, note=f"No fulfillment open any more: {change.words}")
        return True

    def _owed(self) -> str:
        owed = sorted(
            f"a {f.kind.replace('_', ' ')} ({STATE_WORDS.get(f.state, f.state)})"
            for f in self.open_fulfillments.values()
        )
        return ", ".join(owed)

    def _await_fulfillment(self, book: CodeBook, *, note: str) -> None:
        """Wait, from an open stage; a resolved or closed case, or an uncoded contact, stays as it is."""
        stage = self.stage(book)
        waiting_status = book.statuses.get(AWAITING)
        if not self.coded or stage not in WAITS_FROM or not (waiting_status and waiting_status["active"]):
            return
        self._system_move(AWAITING, note=note, go_back_to=self.status)

    def _end_waiting(self, book: CodeBook, *, note: str) -> None:
        if self.stage(book) != AWAITING:
            return  # resolved over it by a supervisor, or never waiting
        back = book.statuses.get(self.status_before_fulfillment)
        status = back["code"] if back and back["active"] and back["stage"] in WAITS_FROM else "in_progress"
        self._system_move(status, note=note, go_back_to="")

    def _system_move(self, status: str, *, note: str, go_back_to: str) -> None:
        """A move fulfillment's events make: no person answered, so the first-response clock runs on."""
        before = self.flat()
        self.status, self.status_before_fulfillment = status, go_back_to
        changes = changes_between(before, self.flat())
        self.timeline.append(Entry("status", SYSTEM, changes, note))
        self.events.append(Happened("contact_updated", actor=SYSTEM, changed_fields=tuple(sorted(changes))))
