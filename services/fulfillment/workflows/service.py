"""The nameko service that moves fulfillment requests along.

- `fulfillment_approved` (fulfillment's own event, from its outbox): run the request's steps until it
  waits or is finished. The message is acknowledged only after the handler returns, so a worker killed
  at any step leaves it on the broker, and the redelivery resumes from the state in the database.
  Requests whose events arrive together are run together, in one transaction (`Together`); what that
  fast path leaves is run alone, one transaction per step.
- `ledger_entry_posted` (billing's event): a refund's credit is on the ledger; the refund is delivered.
- timers: escalate requests that waited too long for approval; pick up requests whose step raised.

A step that raises is counted and left for the sweep (after a few attempts the request fails), and the
message is acknowledged: a poisoned request never loops on the broker.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import eventlet
import psycopg
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from eventlet.semaphore import Semaphore
from nameko.events import event_handler
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from psycopg_pool import ConnectionPool

from services.fulfillment import workflow_batch, workflow_store
from services.fulfillment.replies import State
from services.fulfillment.reply_events import SOURCE, refund_reference, state_event_type
from services.runtime import logs
from services.runtime.db import connection_options

log = logging.getLogger("services.fulfillment.workflows")

SERVICE_NAME = "fulfillment_workflows"
ACTOR = "fulfillment-worker"
__all__ = ["WorkerSettings", "build_service"]


@dataclass(frozen=True)
class WorkerSettings:
    database_url: str
    pool_size: int = 10
    sweep_seconds: float = 30.0
    escalate_after_seconds: float = 4 * 3600.0
    stalled_after_seconds: float = 60.0
    carrier: str = "demo"
    batch_size: int = 50


class Database(DependencyProvider):
    """A pool of blocking connections in the fulfillment schema, shared by the service's workers.

    There are more workers than connections (most wait on a batch, holding none), so a worker waits for
    a free connection as long as it takes, as a message waits on the broker, rather than for the pool's
    timeout: with a step paused, every connection can be held by a worker waiting at the gate.
    """

    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.pool: ConnectionPool | None = None
        self.free: Semaphore | None = None

    def setup(self):
        self.free = Semaphore(self.settings.pool_size)
        self.pool = ConnectionPool(
            self.settings.database_url,
            min_size=1,
            max_size=self.settings.pool_size,
            kwargs={"options": connection_options("fulfillment")},
            open=True,
        )

    def stop(self):
        if self.pool is not None:
            self.pool.close()

    def get_dependency(self, worker_ctx):
        pool, free = self.pool, self.free

        @contextmanager
        def connection():
            with free, pool.connection() as conn:
                yield conn

        return connection


class Together(DependencyProvider):
    """Handlers hand over their request and wait; one green thread runs whatever has gathered meanwhile
    as one batch (services/fulfillment/workflow_batch.py), on a connection of its own.

    Calling the dependency returns True when the batch left the request to the caller, who then runs it
    alone. The handler returns, and the message is acknowledged, only after the batch has committed.
    """

    def __init__(self, settings: WorkerSettings, step_settings: workflow_store.Settings, actor: str):
        self.settings = settings
        self.step_settings = step_settings
        self.actor = actor
        self.pool: ConnectionPool | None = None
        self.waiting: LightQueue | None = None

    def setup(self):
        self.waiting = LightQueue()
        self.pool = ConnectionPool(
            self.settings.database_url,
            min_size=1,
            max_size=1,
            kwargs={"options": connection_options("fulfillment")},
            open=True,
        )

    def start(self):
        self.container.spawn_managed_thread(self._drain)

    def stop(self):
        if self.pool is not None:
            self.pool.close()

    def _drain(self) -> None:
        while True:
            gathered = [self.waiting.get()]
            while len(gathered) < self.settings.batch_size:
                try:
                    gathered.append(self.waiting.get_nowait())
                except Empty:
                    break
            ids = [fid for fid, _ in gathered]
            try:
                with self.pool.connection() as conn:
                    batch = workflow_batch.run_together(conn, ids, self.step_settings, actor=self.actor)
                for fid, steps in batch.done.items():
                    if steps:
                        log.info("fulfillment %s: %s", fid, ", ".join(steps))
                left = set(batch.left)
            except Exception:
                log.exception("a batch of %d failed; each request is run alone", len(ids))
                left = set(ids)
            for fid, done in gathered:
                done.send(fid in left)
            eventlet.sleep(0)  # let the handlers just released bring the next ones

    def get_dependency(self, worker_ctx):
        def run(fulfillment_id: str) -> bool:
            done = Event()
            self.waiting.put((fulfillment_id, done))
            return done.wait()

        return run


def _data(payload) -> dict:
    return (payload or {}).get("data") or {} if isinstance(payload, dict) else {}


def build_service(settings: WorkerSettings):
    """The service class, bound to `settings` (nameko instantiates it per worker)."""
    step_settings = workflow_store.Settings(carrier=settings.carrier)

    class FulfillmentWorkflows:
        name = SERVICE_NAME
        db = Database(settings)
        together = Together(settings, step_settings, ACTOR)

        def _run(self, conn: psycopg.Connection, fulfillment_id: str) -> None:
            try:
                done = workflow_store.run_to_rest(conn, fulfillment_id, step_settings, actor=ACTOR)
            except Exception as exc:
                log.exception("a step of fulfillment %s failed; the sweep will retry it", fulfillment_id)
                conn.rollback()
                workflow_store.record_failure(conn, fulfillment_id, repr(exc), actor=ACTOR)
                return
            if done:
                log.info("fulfillment %s: %s", fulfillment_id, ", ".join(done))

        @event_handler(SOURCE, state_event_type(State.APPROVED))
        def on_approved(self, payload):
            fulfillment_id = _data(payload).get("fulfillment_id", "")
            try:
                fulfillment_id = str(uuid.UUID(fulfillment_id))
            except (ValueError, TypeError, AttributeError):
                # Refused here, not in the batch: one bad id would otherwise roll back its whole batch.
                log.warning("an approval event without a fulfillment id: %r", payload)
                return
            with logs.correlated((payload or {}).get("correlationid")):
                if self.together(fulfillment_id):
                    with self.db() as conn:
                        self._run(conn, fulfillment_id)

        @event_handler("billing", "ledger_entry_posted")
        def on_ledger_entry(self, payload):
            entry = _data(payload).get("entry") or {}
            reference = entry.get("reference", "")
            prefix = refund_reference("")
            if not reference.startswith(prefix):
                return  # not one of ours
            with self.db() as conn:
                if workflow_store.credit_posted(
                    conn, reference.removeprefix(prefix), entry.get("id", ""), actor=ACTOR
                ):
                    log.info("refund %s delivered: credit %s posted", reference, entry.get("id"))

        @timer(interval=settings.sweep_seconds)
        def sweep(self):
            with self.db() as conn:
                for fid in workflow_store.escalate_overdue(
                    conn, settings.escalate_after_seconds, actor=ACTOR
                ):
                    log.info("fulfillment %s escalated: it waited too long for approval", fid)
                for fid in workflow_store.stalled(conn, settings.stalled_after_seconds):
                    self._run(conn, fid)

    return FulfillmentWorkflows
