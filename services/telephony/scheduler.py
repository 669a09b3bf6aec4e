"""Delayed actions on one thread: answering after the ring delay, hanging up at the call's time limit.

A `threading.Timer` per call costs a thread start per call and a sleeping thread per answered call; at a
hundred calls a second that churn competes with the SIP receive thread for the GIL.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Scheduler:
    """Runs each action at or after its time, in time order; actions are cancelled by key."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._entries: dict[int, tuple[str, Callable[[], None]]] = {}
        self._by_key: dict[str, set[int]] = {}
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="call-timers", daemon=True)
        self._thread.start()

    def after(self, seconds: float, key: str, action: Callable[[], None]) -> None:
        """Run `action` in `seconds`, unless `cancel(key)` comes first."""
        with self._wake:
            seq = next(self._counter)
            self._entries[seq] = (key, action)
            self._by_key.setdefault(key, set()).add(seq)
            heapq.heappush(self._heap, (time.monotonic() + seconds, seq))
            self._wake.notify()

    def cancel(self, key: str) -> None:
        """Forget every action still pending for `key`."""
        with self._wake:
            for seq in self._by_key.pop(key, ()):
                self._entries.pop(seq, None)

    def pending(self) -> int:
        with self._wake:
            return len(self._entries)

    def stop(self) -> None:
        """Drop what is pending and end the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                _, seq = heapq.heappop(self._heap)
                entry = self._entries.pop(seq, None)
                if entry is None:
                    continue
                key, action = entry
                seqs = self._by_key.get(key)
                if seqs is not None:
                    seqs.discard(seq)
                    if not seqs:
                        del self._by_key[key]
            try:
                action()
            except Exception:
                log.exception("a scheduled call action failed")
