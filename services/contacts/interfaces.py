"""What the consumer directory and casework ask of each other: nothing more crosses between the two.

Both run in the one contacts process today, and `__main__` hands each the other's implementation. To run
them as two services, each side's implementation becomes a gRPC client and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass
class ContactSummary:
    """One contact as a caller's history shows it."""

    id: str
    consumer_id: str | None
    channel: str
    direction: str
    summary: str
    status: str
    occurred_at: datetime
    call_id: str | None = None
    duration_seconds: float | None = None
    recording_key: str | None = None


class ConsumerLookup(Protocol):
    """What casework asks of the consumer directory."""

    async def exists(self, consumer_id: str) -> bool: ...

    async def owner_of(self, number: str) -> str | None:
        """The one consumer a call from `number` (E.164) belongs to, or None when it is nobody's for sure."""
        ...

    async def contacted(self, consumer_id: str, at: datetime) -> None:
        """The consumer was in touch at `at` (a call was filed for them)."""
        ...


class ContactHistory(Protocol):
    """What the consumer directory asks of casework."""

    async def recent_contacts(
        self, *, consumer_ids: list[str], limit: int
    ) -> dict[str, list[ContactSummary]]: ...
