"""Casework's parts, built once per process for the composition root (services/contacts/__main__.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from crs.contacts.v1 import casework_pb2_grpc
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework import shape, store
from services.contacts.casework.domain.codes import CachedCodeBook
from services.contacts.casework.entrypoints import bus
from services.contacts.casework.entrypoints.grpc import SERVICE_NAME, CaseworkServicer
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

    @classmethod
    def from_env(cls) -> CaseworkSettings:
        return cls(sla_sweep_seconds=env_float("CRS_SLA_SWEEP_SECONDS", 30.0))


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
        self._sweep_task: asyncio.Task | None = None

    @property
    def grpc_servicer(self) -> Servicer:
        return Servicer(
            CaseworkServicer(casework=self.casework, views=self.views),
            casework_pb2_grpc.add_CaseworkServicer_to_server,
            SERVICE_NAME,
        )

    @property
    def subscriptions(self) -> list[Subscription]:
        return bus.subscriptions(self.casework)

    def web_app(self) -> web.Application:
        """Health for probes and process supervisors; the public web form is channels' (services/channels)."""

        async def healthz(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        return app

    def start(self) -> None:
        self._sweep_task = asyncio.create_task(self.sweeper.run())

    async def stop(self) -> None:
        self.sweeper.stop()
        if self._sweep_task:
            await self._sweep_task
        await self.casework.capture.close()
