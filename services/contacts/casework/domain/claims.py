"""Claims: the one agent answering a case now, so that two agents never answer the same message.

A claim lasts `CLAIM_TTL` unless its holder claims again (which extends it) or releases it; a claim past
its expiry is void. While a claim stands, nobody else may change the case (`check_may_change`): the change
is refused with the holder's name and the time the claim runs to. A CRS service acting on its own account
(the consumer's reply arriving by email, a fulfillment event) is not a person answering, and is not held
back. Who wins two claims made at once is the store's (one row per case, taken under the case's lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contacts.casework.domain.access import Actor
from services.contacts.casework.exceptions import Forbidden, Refused

CLAIM_TTL = timedelta(minutes=15)
MIN_TTL = timedelta(minutes=1)
MAX_TTL = timedelta(hours=8)


class ClaimHeld(Refused):
    """Someone else holds the case; the message names them and when their claim runs out."""


@dataclass(frozen=True)
class Claim:
    case_id: str
    agent: str
    claimed_at: datetime
    expires_at: datetime

    def stands(self, now: datetime) -> bool:
        return now < self.expires_at

    def held_by_other(self, username: str, now: datetime) -> bool:
        return self.stands(now) and self.agent != username

    def refusal(self, doing: str) -> ClaimHeld:
        until = self.expires_at.strftime("%H:%M UTC")
        return ClaimHeld(f"{self.agent} claimed this case and is answering it (until {until}); {doing}")


def standing(claim: Claim | None, now: datetime) -> Claim | None:
    """The claim, when it still stands; None for no claim or a void one."""
    return claim if claim is not None and claim.stands(now) else None


def take(
    existing: Claim | None,
    *,
    case_id: str,
    actor: Actor,
    assignee: str,
    now: datetime,
    ttl: timedelta = CLAIM_TTL,
) -> Claim:
    """A new claim for `actor`, or the refusal: the case is held by someone else, or is assigned to
    another agent (only a supervisor takes another's case from them)."""
    if actor.is_service:
        raise Forbidden("a claim is a person's: a service does not answer messages")
    if existing is not None and existing.held_by_other(actor.username, now):
        raise existing.refusal("try another case, or ask a supervisor to release it")
    if assignee and assignee != actor.username and actor.role not in ("supervisor", "admin"):
        raise ClaimHeld(f"this case is assigned to {assignee}; a supervisor may give it to you")
    ttl = min(max(ttl, MIN_TTL), MAX_TTL)
    return Claim(case_id=case_id, agent=actor.username, claimed_at=now, expires_at=now + ttl)


def check_release(claim: Claim | None, *, actor: Actor, may_release_others: bool, now: datetime) -> Claim:
    """The standing claim `actor` may end: their own, or (a supervisor's) anyone's."""
    held = standing(claim, now)
    if held is None:
        raise Refused("nobody holds this case now")
    if held.agent != actor.username and not may_release_others:
        raise Forbidden(f"{held.agent} holds this case; only they or a supervisor may release it")
    return held


def check_may_change(claim: Claim | None, *, actor: Actor, now: datetime) -> None:
    """Refuse a person's change to a case another person holds."""
    if actor.is_service or claim is None:
        return
    if claim.held_by_other(actor.username, now):
        raise claim.refusal("your change was not saved")
