"""How outreach reaches a consumer: the port every sender (campaigns, surveys, shipping, reorder) asks.

The consumer read model (contacts' consumer events) implements it; senders are tested through fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reach:
    email: str  # "" when the consumer gave none
    language: str  # BCP 47 primary tag, "en" when not known
    time_zone: str  # IANA name, "UTC" when not known


class Reachable(Protocol):
    async def of(self, consumer_ids: list[str]) -> dict[str, Reach]:
        """Each known consumer's reach; an unknown or erased consumer is absent."""
