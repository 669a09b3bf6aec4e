"""Retention policies as data, and the sweep that applies them with the erasure machinery.

Each policy says how many days a kind of personal data is kept (0: kept until someone erases it):
- recordings: a call's recording, deleted through telephony's Privacy API like an erasure's, under the
  sweep's id; the case keeps the call, without the key;
- unidentified_callers: the record of a number no consumer matched, with the number on its filed calls;
- closed_case_personal_data: a case closed that long ago loses its reporter, link and mentions, as an
  erased consumer's cases do, and keeps what it counts;
- failed_logins: the console's records of failed and locked log-ins (with the client's address); the
  console applies this one to its own access log (services/console/retention.py).

The sweep runs on its own schedule with an injected clock, and records what each run removed (counts).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)

KINDS = ("recordings", "unidentified_callers", "closed_case_personal_data", "failed_logins")
MAX_DAYS = 100 * 366
BATCH = 1000


class InvalidPolicy(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    kind: str
    days: int
    updated_by: str = "system"
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SweepRecord:
    id: str
    ran_at: datetime
    removed: Mapping[str, int]


def check_policy(kind: str, days: int) -> None:
    if kind not in KINDS:
        raise InvalidPolicy(f"kind: {kind[:40]!r} is not one of {', '.join(KINDS)}")
    if not 0 <= days <= MAX_DAYS:
        raise InvalidPolicy(f"days: {days} is not between 0 (keep) and {MAX_DAYS}")


class RetentionStore(Protocol):
    async def policies(self) -> list[Policy]: ...
    async def put_policy(self, policy: Policy) -> Policy: ...
    async def expired_recordings(self, before: datetime, limit: int) -> list[tuple[str, str]]: ...
    async def forget_recordings(self, contact_ids: list[str]) -> int: ...
    async def remove_unidentified_callers(self, before: datetime, limit: int) -> int: ...
    async def anonymise_closed_cases(self, before: datetime, limit: int) -> int: ...
    async def record_sweep(self, record: SweepRecord) -> None: ...


# Telephony's erase for a list of recording keys, under an id: returns how many it deleted.
DeleteRecordings = Callable[[list[str], str], Awaitable[int]]


class Retention:
    def __init__(
        self, *, store: RetentionStore, delete_recordings: DeleteRecordings, clock: Callable[[], datetime]
    ):
        self.store = store
        self.delete_recordings = delete_recordings
        self.clock = clock

    async def put(self, *, kind: str, days: int, by: str) -> Policy:
        check_policy(kind, days)
        policy = await self.store.put_policy(
            Policy(kind=kind, days=days, updated_by=by, updated_at=self.clock())
        )
        log.info("retention policy set", extra={"fields": {"kind": kind, "days": days, "by": by}})
        return policy

    async def sweep(self) -> SweepRecord:
        now = self.clock()
        days = {p.kind: p.days for p in await self.store.policies()}
        sweep_id = str(uuid.uuid4())
        removed: dict[str, int] = {}
        if days.get("recordings"):
            expired = await self.store.expired_recordings(now - timedelta(days=days["recordings"]), BATCH)
            if expired:
                # A file already gone (deleted by hand, or by a sweep that stopped half-way) still expires.
                deleted = await self.delete_recordings([key for _, key in expired], sweep_id)
                removed["recordings"] = await self.store.forget_recordings(
                    [contact for contact, _ in expired]
                )
                removed["recording_files_deleted"] = deleted
        if days.get("unidentified_callers"):
            before = now - timedelta(days=days["unidentified_callers"])
            removed["unidentified_callers"] = await self.store.remove_unidentified_callers(before, BATCH)
        if days.get("closed_case_personal_data"):
            before = now - timedelta(days=days["closed_case_personal_data"])
            removed["closed_cases_anonymised"] = await self.store.anonymise_closed_cases(before, BATCH)
        record = SweepRecord(id=sweep_id, ran_at=now, removed={k: v for k, v in removed.items() if v})
        await self.store.record_sweep(record)
        if record.removed:
            log.info("retention sweep removed", extra={"fields": dict(record.removed)})
        return record


class Scheduler:
    """Runs `retention.sweep()` every `interval` seconds until stopped; a failed sweep is logged and retried."""

    def __init__(self, retention: Retention, *, interval: float):
        self.retention = retention
        self.interval = interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.retention.sweep()
            except Exception as exc:
                log.warning("retention sweep failed (%s); trying again in %.0fs", exc, self.interval)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
