"""Group commit for captures: new cases arriving together share one transaction.

Intake arrives in bursts (a web form campaign, an email import, a busy phone queue). Each capture is
durable on its own terms — the caller hears back only after its commit — but captures that arrive while
a commit is in flight share the next one: one transaction, one statement per table, one notification to
the outbox relay. A batch that fails for any reason is retried one capture at a time through the plain
path, so a bad capture fails alone and with its own message.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.contacts.casework.domain.case import Case
from services.runtime.events import Event

log = logging.getLogger(__name__)

MAX_BATCH = 128
# Two writers: one builds and sends its batch while the other waits for its commit.
WRITERS = 2


@dataclass
class _Pending:
    case: Case
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCapture:
    """Writes concurrent captures together; `capture()` returns once the capture's own commit is done."""

    def __init__(
        self,
        *,
        unit_of_work: Callable,
        publish: Callable[[Case], Awaitable[list[Event]]],
        one_at_a_time: Callable[[Case], Awaitable[Case]],
        max_batch: int = MAX_BATCH,
    ):
        self.unit_of_work = unit_of_work
        self.publish = publish
        self.one_at_a_time = one_at_a_time
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writers: list[asyncio.Task] = []

    async def capture(self, case: Case) -> Case:
        """Write one new case (checked and coded already); returns it as stored."""
        if not self._writers:
            self._writers = [asyncio.create_task(self._write_forever()) for _ in range(WRITERS)]
        pending = _Pending(case)
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
            pending.done.set_result(await self.one_at_a_time(pending.case))
        except Exception as exc:
            pending.done.set_exception(exc)

    async def _write(self, batch: list[_Pending]) -> None:
        # The batch writes copies: if it fails, each case is retried alone exactly as it was handed in.
        cases = [copy.deepcopy(p.case) for p in batch]
        async with self.unit_of_work() as uow:
            await uow.cases.add(cases)
            events: list[Event] = []
            for case in cases:
                events += await self.publish(case)
            await uow.publish(events)
            await uow.commit()
        for pending, case in zip(batch, cases, strict=True):
            pending.done.set_result(case)
