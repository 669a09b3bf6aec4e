"""Alerts: a signal given an identity, a first-raised time and a lifecycle with who moved it and why.

new -> acknowledged -> investigating -> closed, or escalated (to a recall). A new alert may be closed at
once (a known cause), and an acknowledged one escalated without an investigation; closed and escalated are
final. A recompute refreshes an open alert's figures and contacts; it never moves its status.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from services.insights.domain.signals import Signal

MOVES = {
    "new": ("acknowledged", "closed"),
    "acknowledged": ("investigating", "closed", "escalated"),
    "investigating": ("closed", "escalated"),
    "closed": (),
    "escalated": (),
}
MANAGERS = frozenset({"analyst", "admin"})


class AlertNotFound(LookupError):
    pass


class InvalidMove(ValueError):
    pass


@dataclass(frozen=True)
class Transition:
    status: str
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Alert:
    signal: Signal
    status: str
    first_raised_at: datetime
    history: tuple[Transition, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return self.signal.alert_id


def raise_or_refresh(existing: Alert | None, signal: Signal, now: datetime) -> tuple[Alert, bool]:
    """The alert for `signal`, and whether it is new."""
    if existing is None:
        return Alert(signal, "new", now, (Transition("new", "insights", signal.method, now),)), True
    if existing.status in ("closed", "escalated"):
        return existing, False
    return replace(existing, signal=signal), False


def move(alert: Alert, status: str, *, actor: str, reason: str, now: datetime) -> Alert:
    if status not in MOVES:
        raise InvalidMove(f"status must be one of {', '.join(MOVES)}")
    if status not in MOVES[alert.status]:
        allowed = ", ".join(MOVES[alert.status]) or "nothing: it is final"
        raise InvalidMove(f"an alert that is {alert.status} moves to {allowed}, not {status}")
    if not reason.strip() or len(reason) > 2000:
        raise InvalidMove("say why, in 1 to 2000 characters")
    return replace(
        alert, status=status, history=(*alert.history, Transition(status, actor, reason.strip(), now))
    )


WITHDRAWN = "no longer signalled: later contacts or sales changed the figures"


def withdraw(alert: Alert, now: datetime) -> Alert:
    """Close a new alert that a recompute no longer raises."""
    return replace(
        alert, status="closed", history=(*alert.history, Transition("closed", "insights", WITHDRAWN, now))
    )
