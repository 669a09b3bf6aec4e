"""Casework's parts for the composition root: the web form, gRPC, the SLA sweep."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from crs.contacts.v1 import casework_pb2_grpc
from psycopg_pool import AsyncConnectionPool

from services.contacts import intake, sla
from services.contacts.case_grpc import SERVICE_NAME, CaseworkServicer
from services.contacts.case_store import CaseStore
from services.contacts.casework import Casework
from services.contacts.codes import CachedCodeBook
from services.runtime.grpcio import Servicer
from services.runtime.settings import env, env_float, env_int


@dataclass(frozen=True)
class CaseworkSettings:
    sla_sweep_seconds: float
    intake_per_minute: float
    intake_burst: int
    trusted_proxies: frozenset[str]

    @classmethod
    def from_env(cls) -> CaseworkSettings:
        proxies = env("CRS_INTAKE_TRUSTED_PROXIES", "")
        return cls(
            sla_sweep_seconds=env_float("CRS_SLA_SWEEP_SECONDS", 30.0),
            intake_per_minute=env_float("CRS_INTAKE_PER_MINUTE", 6.0),
            intake_burst=env_int("CRS_INTAKE_BURST", 5),
            trusted_proxies=frozenset(p.strip() for p in proxies.split(",") if p.strip()),
        )


class CaseworkParts:
    """Built once per process from the pool; `start()` and `stop()` run the SLA sweep."""

    def __init__(self, pool: AsyncConnectionPool, *, settings: CaseworkSettings | None = None):
        self.settings = settings or CaseworkSettings.from_env()
        self.store = CaseStore(pool)
        self.codes = CachedCodeBook(self.store.load_codes)
        self.casework = Casework(store=self.store, codes=self.codes)
        self.sweeper = sla.Sweeper(self.store, self.settings.sla_sweep_seconds)
        self._sweep_task: asyncio.Task | None = None

    @property
    def grpc_servicer(self) -> Servicer:
        return Servicer(
            CaseworkServicer(casework=self.casework),
            casework_pb2_grpc.add_CaseworkServicer_to_server,
            SERVICE_NAME,
        )

    def web_app(self) -> web.Application:
        """The public web form, and health for probes."""

        async def healthz(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application(client_max_size=intake.MAX_FORM)
        app.router.add_get("/healthz", healthz)
        limiter = intake.RateLimiter(
            per_minute=self.settings.intake_per_minute, burst=self.settings.intake_burst
        )
        intake.install(app, intake.Intake(self.casework, limiter, self.settings.trusted_proxies))
        return app

    def start(self) -> None:
        self._sweep_task = asyncio.create_task(self.sweeper.run())

    async def stop(self) -> None:
        self.sweeper.stop()
        if self._sweep_task:
            await self._sweep_task
        await self.casework.capture.close()
