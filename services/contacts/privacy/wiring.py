"""The consumer's rights assembled for the contacts process: the workflow and its runner, the retention
sweep and its schedule, and their gRPC servicers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from services.contacts.privacy import grpc_api
from services.contacts.privacy.own_data import ContactsDirectory
from services.contacts.privacy.retention import Retention, Scheduler
from services.contacts.privacy.retention_store import SqlRetentionStore
from services.contacts.privacy.services import Services
from services.contacts.privacy.store import ErasureStore
from services.contacts.privacy.workflow import SERVICES, Runner, Workflow
from services.runtime.settings import env_float, grpc_target

# The services the workflow reaches over gRPC: every step but contacts' own.
REMOTE_SERVICES = tuple(name for name in SERVICES if name != "contacts")


@dataclass(frozen=True)
class PrivacySettings:
    # Every service's Privacy API: the erasure reaches them all.
    targets: dict[str, str]
    # How often unfinished erasures are tried again (a new one starts at once).
    retry_seconds: float = 5.0
    # How often the retention sweep runs; 0 runs it only when asked (crs retention sweep).
    sweep_seconds: float = 3600.0

    @classmethod
    def from_env(cls) -> PrivacySettings:
        return cls(
            targets={name: grpc_target(name) for name in REMOTE_SERVICES},
            retry_seconds=env_float("CRS_ERASURE_RETRY_SECONDS", 5.0),
            sweep_seconds=env_float("CRS_RETENTION_SWEEP_SECONDS", 3600.0),
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PrivacyParts:
    def __init__(
        self, pool: AsyncConnectionPool, settings: PrivacySettings, clock: Callable[[], datetime] = _utc_now
    ):
        self.services = Services(pool, settings.targets)
        self.workflow = Workflow(
            store=ErasureStore(pool),
            directory=ContactsDirectory(pool),
            erasers=self.services.erasers(),
            clock=clock,
        )
        self.retention = Retention(
            store=SqlRetentionStore(pool), delete_recordings=self.services.delete_recordings, clock=clock
        )
        self.runner = Runner(self.workflow, interval=settings.retry_seconds)
        self.scheduler = (
            Scheduler(self.retention, interval=settings.sweep_seconds) if settings.sweep_seconds else None
        )
        self.grpc_servicers = grpc_api.servicers(
            pool=pool, flow=self.workflow, services=self.services, keep=self.retention, clock=clock
        )
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.runner.run()))
        if self.scheduler is not None:
            self._tasks.append(asyncio.create_task(self.scheduler.run()))

    async def stop(self) -> None:
        self.runner.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.services.close()
