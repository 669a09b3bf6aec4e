"""The erasure workflow: one request, one step per service, retried until every step is done.

The request and its steps are rows (store.py), so the workflow survives a restart of contacts, of any
service it calls, or of the broker: the runner picks up every unfinished erasure and carries each pending
step again. Every service is idempotent on the erasure id, so a step that did its work but whose answer
was lost is simply asked again, and answers as the first time.

Contacts goes last: it holds the numbers and recording keys the other services need, and once its step
is done nothing in CRS can tell them again. A step that fails stops the round, so contacts never erases
the keys while another service still needs them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)

# The order steps run in; contacts last (see the module docstring).
SERVICES = ("telephony", "screenpop", "billing", "fulfillment", "outreach", "contacts")
MAX_REASON = 500


class NotFound(LookupError):
    """No such consumer, or no such erasure."""


class InvalidRequest(ValueError):
    """A request the workflow cannot take: its message says what to fix."""


@dataclass(frozen=True)
class Hold:
    """Why a consumer may not be erased yet, and what would let the erasure go ahead."""

    case_reference: int
    reason: str
    release: str


class LegalHold(Exception):
    def __init__(self, holds: list[Hold]):
        self.holds = holds
        super().__init__(
            "; ".join(f"case {h.case_reference}: {h.reason}. Released by: {h.release}" for h in holds)
        )


@dataclass(frozen=True)
class Keys:
    """The consumer's identifiers other services hold them by (crs.common.v1.ConsumerKeys)."""

    consumer_id: str
    phone_numbers: tuple[str, ...] = ()
    recording_keys: tuple[str, ...] = ()
    call_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    service: str
    state: str = "pending"  # pending, done
    erased: Mapping[str, int] = field(default_factory=dict)
    attempts: int = 0
    last_error: str = ""
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Erasure:
    id: str
    consumer_id: str
    requested_by: str
    reason: str
    requested_at: datetime
    state: str = "in_progress"  # in_progress, done
    completed_at: datetime | None = None
    steps: tuple[Step, ...] = ()

    def step(self, service: str) -> Step:
        return next(s for s in self.steps if s.service == service)


class ErasureStore(Protocol):
    async def add(self, erasure: Erasure) -> Erasure: ...  # the stored one when the id exists
    async def get(self, erasure_id: str) -> Erasure | None: ...
    async def unfinished(self) -> list[Erasure]: ...
    async def step_done(
        self, erasure_id: str, service: str, erased: Mapping[str, int], at: datetime
    ) -> None: ...
    async def step_failed(self, erasure_id: str, service: str, error: str) -> None: ...
    async def complete(self, erasure_id: str, at: datetime) -> None: ...


class Directory(Protocol):
    async def exists(self, consumer_id: str) -> bool: ...
    async def keys(self, consumer_id: str) -> Keys: ...
    async def legal_holds(self, consumer_id: str) -> list[Hold]: ...


# One per service: erase what it holds about the consumer, once per erasure id; returns counts by kind.
Eraser = Callable[[Keys, str], Awaitable[Mapping[str, int]]]


class Workflow:
    def __init__(
        self,
        *,
        store: ErasureStore,
        directory: Directory,
        erasers: Mapping[str, Eraser],
        clock: Callable[[], datetime],
    ):
        missing = set(SERVICES) - set(erasers)
        if missing:
            raise ValueError(f"no eraser for {sorted(missing)}")
        self.store = store
        self.directory = directory
        self.erasers = erasers
        self.clock = clock
        self.wake = asyncio.Event()

    async def request(
        self, *, consumer_id: str, reason: str, requested_by: str, erasure_id: str = ""
    ) -> Erasure:
        """Start an erasure, or return the one `erasure_id` already started. Raises LegalHold, NotFound."""
        reason = reason.strip()
        if not reason:
            raise InvalidRequest(
                "reason: say why the consumer is erased (their request, a retention rule...)"
            )
        if len(reason) > MAX_REASON:
            raise InvalidRequest(f"reason: at most {MAX_REASON} characters")
        if erasure_id:
            try:
                erasure_id = str(uuid.UUID(erasure_id))
            except ValueError:
                raise InvalidRequest(f"erasure_id: {erasure_id[:60]!r} is not a UUID") from None
            existing = await self.store.get(erasure_id)
            if existing is not None:
                return existing
        if not await self.directory.exists(consumer_id):
            raise NotFound(f"no consumer {consumer_id}")
        holds = await self.directory.legal_holds(consumer_id)
        if holds:
            raise LegalHold(holds)
        erasure = Erasure(
            id=erasure_id or str(uuid.uuid4()),
            consumer_id=consumer_id,
            requested_by=requested_by,
            reason=reason,
            requested_at=self.clock(),
            steps=tuple(Step(service) for service in SERVICES),
        )
        stored = await self.store.add(erasure)
        log.info("erasure requested", extra={"fields": {"erasure": stored.id, "by": requested_by}})
        self.wake.set()
        return stored

    async def get(self, erasure_id: str) -> Erasure:
        found = await self.store.get(erasure_id)
        if found is None:
            raise NotFound(f"no erasure {erasure_id}")
        return found

    async def advance(self, erasure: Erasure) -> Erasure:
        """Carry each pending step, in order, stopping at the first that fails; complete when all are done."""
        for step in erasure.steps:
            if step.state == "done":
                continue
            try:
                keys = await self.directory.keys(erasure.consumer_id)
                erased = await self.erasers[step.service](keys, erasure.id)
            except Exception as exc:  # any failure is the step's, retried next round
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                await self.store.step_failed(erasure.id, step.service, error)
                log.warning(
                    "erasure step failed; it is retried",
                    extra={"fields": {"erasure": erasure.id, "service": step.service, "error": error}},
                )
                return await self.get(erasure.id)
            await self.store.step_done(erasure.id, step.service, dict(erased), self.clock())
        await self.store.complete(erasure.id, self.clock())
        log.info("erasure complete", extra={"fields": {"erasure": erasure.id}})
        return await self.get(erasure.id)

    async def advance_all(self) -> int:
        """One round over every unfinished erasure; returns how many completed."""
        completed = 0
        for erasure in await self.store.unfinished():
            if (await self.advance(erasure)).state == "done":
                completed += 1
        return completed


class Runner:
    """Runs the workflow's rounds: at once when an erasure is requested, else every `interval` seconds."""

    def __init__(self, workflow: Workflow, *, interval: float):
        self.workflow = workflow
        self.interval = interval
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            self.workflow.wake.clear()
            try:
                await self.workflow.advance_all()
            except Exception as exc:
                log.warning("erasure round failed (%s); trying again in %.0fs", exc, self.interval)
            waits = [
                asyncio.ensure_future(self._stop.wait()),
                asyncio.ensure_future(self.workflow.wake.wait()),
            ]
            await asyncio.wait(waits, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()

    def stop(self) -> None:
        self._stop.set()


def with_step(erasure: Erasure, step: Step) -> Erasure:
    """`erasure` with `step` in place of the step of the same service (for stores kept in memory)."""
    return replace(erasure, steps=tuple(step if s.service == step.service else s for s in erasure.steps))
