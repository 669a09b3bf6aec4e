"""Calls as casework files them: an ended call becomes an uncoded contact on its caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contacts.casework.domain.records import Entry

WITHHELD_KEY = "withheld"
END_SUMMARIES = {
    "cancelled": "Missed call: the caller hung up while it rang",
    "caller_hung_up": "Inbound call",
    "completed": "Inbound call",
    "failed": "Inbound call that failed",
}


@dataclass(frozen=True)
class PausedSpan:
    """A span of a call's recording kept silent (PCI), as the recording's metadata lists it."""

    start_seconds: float  # from the recording's first audio
    end_seconds: float  # 0 when the call ended paused
    paused_by: str
    resumed_by: str
    paused_at: datetime | None
    resumed_at: datetime | None

    def as_dict(self) -> dict:
        return {
            "start_seconds": self.start_seconds,
            "end_seconds": self.end_seconds,
            "paused_by": self.paused_by,
            "resumed_by": self.resumed_by,
            "paused_at": self.paused_at.isoformat() if self.paused_at else None,
            "resumed_at": self.resumed_at.isoformat() if self.resumed_at else None,
        }

    @classmethod
    def from_dict(cls, row: dict) -> PausedSpan:
        def moment(value):
            return datetime.fromisoformat(value) if value else None

        return cls(
            start_seconds=float(row.get("start_seconds") or 0.0),
            end_seconds=float(row.get("end_seconds") or 0.0),
            paused_by=row.get("paused_by") or "",
            resumed_by=row.get("resumed_by") or "",
            paused_at=moment(row.get("paused_at")),
            resumed_at=moment(row.get("resumed_at")),
        )


@dataclass(frozen=True)
class PauseChange:
    """Someone paused or resumed a call's recording: one recording_paused / recording_resumed event.

    Stored with the call, not with a case: the timeline of every case the call belongs to shows it, also
    of a case the call is linked to later (docs/casework.md, "Recording pauses")."""

    event_id: str
    call_id: str
    paused: bool
    actor: str
    actor_role: str
    at: datetime
    offset_seconds: float

    @property
    def kind(self) -> str:
        return "recording_paused" if self.paused else "recording_resumed"

    def entry(self) -> Entry:
        """The line it makes on a case's timeline."""
        what = "paused" if self.paused else "resumed"
        role = f" ({self.actor_role})" if self.actor_role else ""
        note = f"Recording {what}{role} at {self.offset_seconds:.1f} s of the call's recording"
        return Entry(self.kind, self.actor, {"recording": {"before": None, "after": what}}, note)


@dataclass(frozen=True)
class EndedCall:
    call_id: str
    number: str  # E.164, or empty when withheld
    withheld: bool
    extension: str
    reason: str
    duration_seconds: float
    recording_key: str
    started_at: datetime
    paused: tuple[PausedSpan, ...] = ()

    @property
    def summary(self) -> str:
        summary = END_SUMMARIES.get(self.reason, "Inbound call")
        if self.duration_seconds:
            summary += f", {round(self.duration_seconds)} s"
        return summary

    @property
    def caller_key(self) -> str:
        """Who an unidentified caller is: their number, or one caller for every withheld number."""
        return self.number if self.number and not self.withheld else WITHHELD_KEY


@dataclass(frozen=True)
class FiledCall:
    """A call as filed: who called, its recording, and the cases it belongs to."""

    call_id: str
    consumer_id: str | None
    caller_number: str
    recording_key: str | None
    duration_seconds: float | None
    started_at: datetime
    case_ids: list[str]
    extension: str = ""  # the agent extension that took it
    paused: tuple[PausedSpan, ...] = ()

    @property
    def ended_at(self) -> datetime | None:
        if self.duration_seconds is None:
            return None
        return self.started_at + timedelta(seconds=self.duration_seconds)
