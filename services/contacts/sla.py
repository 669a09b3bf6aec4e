"""SLA breaches: a periodic sweep in the contacts process flags cases past a due time and says so on the bus."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from services.contacts.case_store import CaseStore
from services.runtime.events import Event

log = logging.getLogger(__name__)
BATCH = 200


def breach_of(row: dict, now: datetime) -> tuple[str, datetime]:
    """Which deadline a case missed first: the first response, or the resolution."""
    if row["first_response_at"] is None and row["response_due_at"] and row["response_due_at"] < now:
        return "first_response", row["response_due_at"]
    return "resolution", row["resolution_due_at"]


async def sweep(*, store: CaseStore, now: datetime | None = None) -> int:
    """Flag every open case past a due time, with a timeline event and `sla_breached`; return how many."""
    now = now or datetime.now(UTC)
    flagged = 0
    while True:
        async with store.transaction() as repo:
            rows = await repo.due_for_breach(now, BATCH)
            for row in rows:
                breach, due_at = breach_of(row, now)
                await repo.flag_breach(row["id"], breach=breach, at=now)
                await repo.add_event(
                    row["id"],
                    actor="system",
                    kind="sla_breached",
                    changes={"sla_breach": {"before": "", "after": breach}},
                    note=f"{breach.replace('_', ' ')} was due {due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                )
                due = Timestamp()
                due.FromDatetime(due_at.astimezone(UTC))
                await repo.add_outbox(
                    Event.of(
                        "contacts",
                        "sla_breached",
                        pb.SlaBreached(
                            contact_id=row["id"],
                            reference=row["reference"],
                            breach=breach,
                            due_at=due,
                            issue_code=row["issue_code"] or "",
                            severity=row["severity"] or "",
                            assignee=row["assignee"],
                        ),
                    )
                )
        flagged += len(rows)
        if len(rows) < BATCH:
            return flagged


class Sweeper:
    """Runs `sweep` every `interval` seconds until stopped; a failed sweep is logged and retried."""

    def __init__(self, store: CaseStore, interval: float):
        self.store = store
        self.interval = interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                count = await sweep(store=self.store)
                if count:
                    log.info("flagged %d SLA breaches", count)
            except Exception as exc:
                log.warning("SLA sweep failed (%s); trying again in %.0fs", exc, self.interval)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
