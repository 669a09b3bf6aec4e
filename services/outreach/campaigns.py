"""A campaign sends one template to the consumers of a segment: its states, and what happens to each recipient.

States: draft → tested (a test send went to a given address) → running ⇄ paused → finished. A campaign
cannot start untested, so nobody's inbox is the first place a broken template shows.

Each recipient is one row, made once when the campaign starts, and ends in exactly one of: sent,
suppressed (no consent for the purpose, or an unusable address), failed (the relay refused for good).
Deferred is not an end: a consumer in quiet hours or at a frequency cap waits until the time given, and is
tried again then. The sender claims rows transactionally and hands each to channels with the idempotency
key `campaign:<id>:<consumer>`, so a sender killed mid-send and restarted sends nobody a second message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("marketing", "recall")
STATES = ("draft", "tested", "running", "paused", "finished")
_MOVES = {
    "test": {"draft": "tested", "tested": "tested"},
    # A recall notice's text was approved by whoever opened the recall; it starts without a test send.
    "approve": {"draft": "tested"},
    "start": {"tested": "running"},
    "pause": {"running": "paused"},
    "resume": {"paused": "running"},
    "finish": {"running": "finished"},
}
OUTCOMES = ("sent", "deferred", "suppressed", "failed")


class NotAllowedNow(ValueError):
    """The move does not apply to the campaign's state (starting a running campaign, pausing a draft)."""


def next_state(state: str, move: str) -> str:
    try:
        return _MOVES[move][state]
    except KeyError:
        raise NotAllowedNow(f"a {state} campaign cannot {move}") from None


def purpose_of(kind: str) -> str:
    """The consent purpose a campaign kind is sent under: a recall notice is not marketing."""
    if kind not in KINDS:
        raise ValueError(f"kind: one of {', '.join(KINDS)}")
    return kind


def idempotency_key(campaign_id: str, consumer_id: str) -> str:
    return f"campaign:{campaign_id}:{consumer_id}"


def needs_unsubscribe(kind: str) -> bool:
    """Marketing carries the one-click unsubscribe (RFC 8058); a recall notice, a safety message, does not."""
    return purpose_of(kind) == "marketing"


@dataclass(frozen=True)
class Campaign:
    """What the sender needs of a campaign: its kind (the purpose it is sent under) and its template."""

    id: str
    kind: str
    subject: str
    body: str


@dataclass(frozen=True)
class Recipient:
    consumer_id: str
    email: str
    time_zone: str = "UTC"
    consented: frozenset[str] = frozenset()
    sent_in_window: int = 0  # messages of capped purposes already sent in the cap's window


@dataclass(frozen=True)
class Rules:
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    cap: int = 3  # marketing messages per window
    cap_window: timedelta = timedelta(days=7)


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Decision:
    outcome: str  # send, deferred, suppressed
    until: datetime | None = None
    reason: str = ""


def decide(kind: str, recipient: Recipient, now: datetime, rules: Rules | None = None) -> Decision:
    """What to do with one recipient now.

    Marketing needs marketing consent, and waits out quiet hours and the frequency cap. A recall notice
    goes to everyone affected who has not refused recall notices, marketing opt-outs included, and is not
    capped; it still waits out the night, since a safety notice at 03:00 is read in the morning anyway.
    """
    rules = rules or DEFAULT_RULES
    if "@" not in recipient.email:
        return Decision("suppressed", reason="no email address")
    if purpose_of(kind) not in recipient.consented:
        return Decision("suppressed", reason=f"no consent for {kind}")
    local = now.astimezone(_zone(recipient.time_zone))
    if in_quiet_hours(local.time(), rules):
        return Decision("deferred", until=quiet_ends(local, rules), reason="quiet hours")
    if kind == "marketing" and recipient.sent_in_window >= rules.cap:
        return Decision("deferred", until=now + rules.cap_window / rules.cap, reason="frequency cap")
    return Decision("send")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(at: time, rules: Rules) -> bool:
    start, end = rules.quiet_start, rules.quiet_end
    return (start <= at or at < end) if start > end else (start <= at < end)


def quiet_ends(local: datetime, rules: Rules) -> datetime:
    ends = local.replace(hour=rules.quiet_end.hour, minute=rules.quiet_end.minute, second=0, microsecond=0)
    return ends if ends > local else ends + timedelta(days=1)


@dataclass(frozen=True)
class Progress:
    """What the console shows while a campaign runs, and after."""

    total: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    failed: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> Progress:
        total = sum(counts.values())
        return cls(total=total, **{k: counts.get(k, 0) for k in OUTCOMES})

    @property
    def remaining(self) -> int:
        return self.total - self.sent - self.suppressed - self.failed

    @property
    def done(self) -> bool:
        return self.remaining == 0


class RateLimit:
    """A token bucket: at most `per_second` sends a second on average, bursts up to one second's worth."""

    def __init__(self, per_second: float, clock: Callable[[], float]):
        if per_second <= 0:
            raise ValueError("the rate limit is a positive number of messages a second")
        self.rate = per_second
        self.clock = clock
        self.tokens = per_second
        self.at = clock()

    def take(self, wanted: int) -> tuple[int, float]:
        """How many of `wanted` may go now, and how long to wait before asking for more."""
        now = self.clock()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        granted = min(wanted, int(self.tokens))
        self.tokens -= granted
        wait = 0.0 if granted == wanted else (1 - self.tokens % 1) / self.rate
        return granted, wait

    def give_back(self, unused: int) -> None:
        """Return tokens taken for sends that did not happen (nothing was due)."""
        self.tokens = min(self.rate, self.tokens + unused)
