"""Fulfillment's requests as a case knows them, from the `fulfillment_<state>` events fulfillment publishes.

A case keeps, per fulfillment, the furthest state it has heard of. A request's states only move forward
(requested, awaiting approval, approved, in progress, shipped, then delivered, cancelled or failed), so an
event that names a state no further than the one kept is a redelivery or arrived late, and changes nothing:
a `delivered` that overtook its `requested` leaves the request ended, whatever arrives after it.

A request is open while the company still owes the consumer an action (fulfillment's own definition, in
services/fulfillment/replies.py): requested, awaiting approval, approved or in progress. Once shipped the
company has done its part; a letter ends there, and a parcel's delivery or loss changes nothing for the case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.contacts.casework.domain.fields import an_id, text
from services.contacts.casework.exceptions import InvalidInput

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
