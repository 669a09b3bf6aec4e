"""Casework's parts, built once per process for the composition root (services/contacts/__main__.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from crs.contacts.v1 import casework_pb2_grpc, inbox_pb2_grpc, regulatory_pb2_grpc
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework import shape, store
from services.contacts.casework.domain.codes import CachedCodeBook
from services.contacts.casework.entrypoints import bus, inbox_grpc, regulatory_grpc
from services.contacts.casework.entrypoints.grpc import SERVICE_NAME, CaseworkServicer
from services.contacts.casework.entrypoints.inbox_grpc import InboxServicer
from services.contacts.casework.entrypoints.regulatory_grpc import RegulatoryServicer
from services.contacts.casework.inbox_service import Inbox
from services.contacts.casework.inbox_views import InboxViews
from services.contacts.casework.recall_store import RecallQueues
from services.contacts.casework.regulatory_service import Regulatory
from services.contacts.casework.regulatory_store import RegulatoryUnitOfWork
from services.contacts.casework.service import Casework, utc_now
from services.contacts.casework.sweeper import Sweeper
from services.contacts.casework.views import CaseViews
from services.contacts.interfaces import ConsumerLookup
from services.runtime.bus import Subscription
from services.runtime.grpcio import Servicer
from services.runtime.settings import env_float


@dataclass(frozen=True)
class CaseworkSettings:
    sla_sweep_seconds: float
    # How often due follow-ups are looked for and their reminders fired.
    follow_up_sweep_seconds: float = 15.0
    # How often reporting deadlines are looked at and legal warned of the ones near.
    regulatory_sweep_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> CaseworkSettings:
        return cls(
            sla_sweep_seconds=env_float("CRS_SLA_SWEEP_SECONDS", 30.0),
            follow_up_sweep_seconds=env_float("CRS_FOLLOW_UP_SWEEP_SECONDS", 15.0),
            regulatory_sweep_seconds=env_float("CRS_REGULATORY_SWEEP_SECONDS", 60.0),
        )


class CaseworkParts:
    """The use cases, views and entrances over one pool; `start()` and `stop()` run the SLA sweep."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        consumers: ConsumerLookup,
        settings: CaseworkSettings,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.settings = settings
        self.codes = CachedCodeBook(lambda: store.load_codes(pool))
        self.casework = Casework(
            unit_of_work=lambda: store.PostgresUnitOfWork(pool),
            codes=self.codes,
            consumers=consumers,
            rules=shape.CASE_RULES,
            clock=clock,
        )
        self.views = CaseViews(pool, channels=shape.CASE_RULES["channel"].one_of)
        self.sweeper = Sweeper(self.casework.sweep_sla, interval=settings.sla_sweep_seconds, clock=clock)
        self.inbox = Inbox(
            unit_of_work=lambda: store.PostgresUnitOfWork(pool),
            codes=self.codes,
            channels=shape.CASE_RULES["channel"].one_of,
            reminder=self.casework.notifier.follow_up_due,
            clock=clock,
        )
        self.inbox_views = InboxViews(pool)
        self.recall_queues = RecallQueues(pool)
        self.reminders = Sweeper(
            self.inbox.fire_reminders,
            interval=settings.follow_up_sweep_seconds,
            clock=clock,
            what="follow-up reminders fired",
        )
        self.regulatory = Regulatory(
            unit_of_work=lambda: RegulatoryUnitOfWork(pool),
            warning=self.casework.notifier.regulatory_deadline_near,
            form_fields=shape.FORM_FIELDS,
            clock=clock,
        )
        self.deadline_warnings = Sweeper(
            self.regulatory.warn_due,
            interval=settings.regulatory_sweep_seconds,
            clock=clock,
            what="regulatory deadline warnings sent",
        )
        self._sweep_tasks: list[asyncio.Task] = []

    def _case_servicer(self) -> CaseworkServicer:
        return CaseworkServicer(casework=self.casework, views=self.views, regulatory=self.regulatory)

    @property
    def grpc_servicer(self) -> Servicer:
        return Servicer(self._case_servicer(), casework_pb2_grpc.add_CaseworkServicer_to_server, SERVICE_NAME)

    @property
    def regulatory_servicer(self) -> Servicer:
        return Servicer(
            RegulatoryServicer(regulatory=self.regulatory, cases=self._case_servicer()),
            regulatory_pb2_grpc.add_RegulatoryServicer_to_server,
            regulatory_grpc.SERVICE_NAME,
        )

    @property
    def inbox_servicer(self) -> Servicer:
        return Servicer(
            InboxServicer(inbox=self.inbox, views=self.inbox_views),
            inbox_pb2_grpc.add_InboxServicer_to_server,
            inbox_grpc.SERVICE_NAME,
        )

    @property
    def subscriptions(self) -> list[Subscription]:
        return bus.subscriptions(self.casework) + bus.recall_subscriptions(self.recall_queues)

    def web_app(self) -> web.Application:
        """Health for probes and process supervisors; the public web form is channels' (services/channels)."""

        async def healthz(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        return app

    def start(self) -> None:
        sweeps = (self.sweeper, self.reminders, self.deadline_warnings)
        self._sweep_tasks = [asyncio.create_task(s.run()) for s in sweeps]

    async def stop(self) -> None:
        for sweep in (self.sweeper, self.reminders, self.deadline_warnings):
            sweep.stop()
        for task in self._sweep_tasks:
            await task
        await self.casework.capture.close()
