"""Capturing new cases: the records a capture writes, and group commit for captures arriving together.

Intake arrives in bursts (a web form campaign, an email import, a busy phone queue). Each capture is
durable on its own terms — the caller hears back only after its commit — but captures that arrive while
a commit is in flight share the next one: one transaction, one statement per table, one notification to
the outbox relay. A batch that fails for any reason is retried one capture at a time through the plain
path, so a bad capture fails alone and with its own message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf.message import Message

from services.contacts.case_store import CaseStore
from services.runtime.events import Event

log = logging.getLogger(__name__)

SOURCE = "contacts"
MAX_BATCH = 128
# Two writers: one builds and sends its batch while the other waits for its commit.
WRITERS = 2
_CASE_FIELDS = frozenset(f.name for f in pb.Case.DESCRIPTOR.fields)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    actor: str
    changes: dict
    note: str = ""


def case_json(case: dict) -> dict:
    """The case in the JSON mapping of casework.proto's Case, without a trip through protobuf objects."""
    return {k: v for k, v in case.items() if k in _CASE_FIELDS and v is not None}


def case_event(type_: str, message: type[Message], case: dict, **fields) -> Event:
    """An event whose data is `message` holding the case (and `fields`), correlated with its first call."""
    return Event(
        source=SOURCE,
        type=type_,
        data={"case": case_json(case), **fields},
        schema=message.DESCRIPTOR.full_name,
        correlation_id=(case["call_ids"] or [None])[0],
    )


def created_view(case: dict) -> dict:
    """The fields worth showing on the timeline's first line."""
    keep = ("channel", "consumer_id", "issue_code", "severity", "status", "language")
    view = {k: case[k] for k in keep if case.get(k)}
    product = {k: v for k, v in case["product"].items() if v}
    if product:
        view["product"] = product
    if case["call_ids"]:
        view["call_ids"] = case["call_ids"]
    return view


def creation_records(
    case: dict, *, actor: str, escalation_reason: str | None
) -> tuple[list[TimelineEntry], list[Event]]:
    """What capturing `case` writes besides the case: its timeline entries and its events."""
    timeline = [
        TimelineEntry(
            "created", actor, {k: {"before": None, "after": v} for k, v in created_view(case).items()}
        )
    ]
    events = [case_event("contact_created", pb.ContactCreated, case)]
    if escalation_reason:
        timeline.append(
            TimelineEntry(
                "escalated", "system", {"escalated": {"before": False, "after": True}}, escalation_reason
            )
        )
        events.append(
            case_event(
                "contact_escalated", pb.ContactEscalated, case, reason=escalation_reason, actor="system"
            )
        )
    return timeline, events


@dataclass
class _Pending:
    values: dict
    actor: str
    escalation_reason: str | None
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCapture:
    """Writes concurrent captures together; `capture()` returns once the capture's own commit is done."""

    def __init__(
        self,
        *,
        store: CaseStore,
        present: Callable[[dict], Awaitable[dict]],
        one_at_a_time: Callable[[dict, str, str | None], Awaitable[dict]],
        max_batch: int = MAX_BATCH,
    ):
        self.store = store
        self.present = present
        self.one_at_a_time = one_at_a_time
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writers: list[asyncio.Task] = []

    async def capture(self, *, values: dict, actor: str, escalation_reason: str | None) -> dict:
        """Capture one case (checked and coded already); returns it as shown."""
        if not self._writers:
            self._writers = [asyncio.create_task(self._write_forever()) for _ in range(WRITERS)]
        pending = _Pending(values, actor, escalation_reason)
        await self._queue.put(pending)
        return await pending.done

    async def close(self) -> None:
        """Finish the captures already handed in, then stop."""
        if self._writers:
            await self._queue.join()
            for writer in self._writers:
                writer.cancel()
            self._writers = []

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as exc:
                log.info("a batch of %d captures failed (%s); writing them one at a time", len(batch), exc)
                await asyncio.gather(*(self._write_alone(p) for p in batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write_alone(self, pending: _Pending) -> None:
        try:
            pending.done.set_result(
                await self.one_at_a_time(pending.values, pending.actor, pending.escalation_reason)
            )
        except Exception as exc:
            pending.done.set_exception(exc)

    async def _write(self, batch: list[_Pending]) -> None:
        for pending in batch:
            pending.values["id"] = str(uuid.uuid4())
        cases, timeline, events = [], [], []
        async with self.store.transaction() as repo:
            rows = await repo.insert_many([p.values for p in batch])
            for pending, row in zip(batch, rows, strict=True):
                case = await self.present(row)
                entries, case_events = creation_records(
                    case, actor=pending.actor, escalation_reason=pending.escalation_reason
                )
                timeline += [(row["id"], e) for e in entries]
                events += case_events
                cases.append(case)
            await repo.add_events_many(timeline)
            await repo.add_outbox_many(events)
        for pending, case in zip(batch, cases, strict=True):
            pending.done.set_result(case)
