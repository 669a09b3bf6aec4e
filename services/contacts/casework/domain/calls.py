"""Calls as casework files them: an ended call becomes an uncoded contact on its caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WITHHELD_KEY = "withheld"
END_SUMMARIES = {
    "cancelled": "Missed call: the caller hung up while it rang",
    "caller_hung_up": "Inbound call",
    "completed": "Inbound call",
    "failed": "Inbound call that failed",
}


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

    @property
    def ended_at(self) -> datetime | None:
        if self.duration_seconds is None:
            return None
        return self.started_at + timedelta(seconds=self.duration_seconds)
