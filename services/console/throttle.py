"""Failed log-ins counted per client address, in this process: a burst from one address is refused before
any password is checked. An attempt counts as failed from the moment it starts (and is forgiven when it
succeeds), so a thousand concurrent guesses do not all get past the check before the first one fails. Per account, failures are counted in the database (shared by every replica) and
lock the account until an admin lifts it (services/console/accounts.py)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class AddressThrottle:
    """At most `limit` failed log-ins from one address in any `window` seconds."""

    limit: int = 20
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    max_addresses: int = 100_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    def blocked(self, address: str) -> bool:
        recent = self._recent(address)
        return recent is not None and len(recent) >= self.limit

    def first_refusal(self, address: str) -> bool:
        """True once per blocked spell of `address`, so that a storm is logged once, not once a request."""
        if address in self._reported:
            return False
        if len(self._reported) >= self.max_addresses:
            self._reported.clear()
        self._reported.add(address)
        return True

    def forgive(self, address: str) -> None:
        """A log-in counted by `failed` before its password was checked turned out right."""
        recent = self._failures.get(address)
        if recent:
            recent.pop()

    def failed(self, address: str) -> None:
        if len(self._failures) >= self.max_addresses:
            self._failures.clear()  # a flood of addresses forgets, rather than grows without end
        self._failures.setdefault(address, deque()).append(self.clock())

    def _recent(self, address: str) -> deque[float] | None:
        recent = self._failures.get(address)
        if recent is None:
            return None
        cutoff = self.clock() - self.window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if not recent:
            del self._failures[address]
            self._reported.discard(address)
            return None
        return recent
