"""`python -m services.console`: the gateway for people — every page, the pop socket, the JSON API.

Start reading at app.py (the areas and their routes), then web.py (who is asking and what they may do)
and permissions.py (the one table of permissions). The console owns people's accounts and sessions
(accounts.py, the `console` schema); everything else it asks of the services over gRPC (clients.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from crs.contacts.v1 import rights_pb2

from services.console import retention
from services.console.accounts import Accounts
from services.console.app import build_app
from services.console.clients import Clients
from services.console.pops import Hub, PopFeed
from services.console.tokens import TokenKeys, keys_from_env
from services.console.web import Context
from services.runtime import bus, db, process
from services.runtime.recordings import store_from_env
from services.runtime.settings import Common, env, env_float, env_int, grpc_target, split_hostport

log = logging.getLogger("services.console")
SCHEMA = "console"


@dataclass(frozen=True)
class Settings:
    database_url: str
    amqp_url: str
    home_region: str
    http_bind: str
    contacts: str
    billing: str
    fulfillment: str
    screenpop: str
    telephony: str
    knowledge: str
    call_deadline: float
    page_deadline: float
    pop_ttl_ms: int
    shutdown_grace: float
    behind_tls: bool
    token_keys: TokenKeys
    channels: str = "127.0.0.1:50058"
    insights: str = "127.0.0.1:50056"
    outreach: str = "127.0.0.1:50059"
    # How often failed log-ins past the retention policy are removed; 0: never.
    retention_sweep_seconds: float = 3600.0

    @classmethod
    def from_env(cls) -> Settings:
        common = Common.from_env()
        return cls(
            database_url=common.database_url,
            amqp_url=common.amqp_url,
            home_region=common.home_region,
            http_bind=env("CRS_CONSOLE_HTTP", "127.0.0.1:8080"),
            contacts=grpc_target("contacts"),
            billing=grpc_target("billing"),
            fulfillment=grpc_target("fulfillment"),
            screenpop=grpc_target("screenpop"),
            telephony=grpc_target("telephony"),
            knowledge=grpc_target("knowledge"),
            call_deadline=env_int("CRS_CONSOLE_CALL_DEADLINE_MS", 2000) / 1000,
            page_deadline=env_int("CRS_CONSOLE_PAGE_DEADLINE_MS", 1500) / 1000,
            pop_ttl_ms=env_int("CRS_CONSOLE_POP_TTL_S", 120) * 1000,
            shutdown_grace=env_float("CRS_CONSOLE_SHUTDOWN_GRACE", 5.0),
            # "true" when people reach the console over HTTPS (an ingress or proxy ends TLS in front of it):
            # cookies are then Secure and every answer carries HSTS.
            behind_tls=env("CRS_CONSOLE_BEHIND_TLS", "false").lower() in ("true", "1", "on"),
            token_keys=keys_from_env(),
            channels=grpc_target("channels"),
            insights=grpc_target("insights"),
            outreach=grpc_target("outreach"),
            retention_sweep_seconds=env_float("CRS_RETENTION_SWEEP_SECONDS", 3600.0),
        )


async def serve(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[int], None] | None = None
) -> None:
    """Serve until `stop` is set, then drain: refuse new work, close sockets, finish requests, close."""
    pool = await db.open_pool(settings.database_url, schema=SCHEMA, min_size=1, max_size=10)
    connection = await bus.connect(settings.amqp_url)
    clients = Clients(
        contacts=settings.contacts,
        billing=settings.billing,
        fulfillment=settings.fulfillment,
        screenpop=settings.screenpop,
        telephony=settings.telephony,
        knowledge=settings.knowledge,
        deadline=settings.call_deadline,
        channels=settings.channels,
        insights=settings.insights,
        outreach=settings.outreach,
    )
    hub = Hub()
    feed = PopFeed(connection, hub, ttl_ms=settings.pop_ttl_ms)
    await feed.start()
    ctx = Context(
        accounts=Accounts(pool),
        clients=clients,
        hub=hub,
        feed=feed,
        recordings=store_from_env(),
        region=settings.home_region,
        page_deadline=settings.page_deadline,
        behind_tls=settings.behind_tls,
        tokens=settings.token_keys,
    )
    runner = web.AppRunner(build_app(ctx), access_log=None, shutdown_timeout=settings.shutdown_grace)
    await runner.setup()
    host, port = split_hostport(settings.http_bind)
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    ctx.ready = True
    retention_task = None
    if settings.retention_sweep_seconds:
        schedule = failed_login_retention(ctx.accounts, clients, settings.retention_sweep_seconds)
        retention_task = asyncio.create_task(schedule.run())
    log.info("console serving on port %d", bound)
    if on_ready is not None:
        on_ready(bound)
    try:
        await stop.wait()
    finally:
        ctx.ready = False
        if retention_task is not None:
            schedule.stop()
            await retention_task
        await hub.close_all()
        await runner.cleanup()
        await clients.close()
        await connection.close()
        await pool.close()


def failed_login_retention(accounts: Accounts, clients: Clients, interval: float) -> retention.Schedule:
    """The console's share of the retention policies (services/console/retention.py), on a schedule."""

    async def policy_days() -> int:
        found = await clients.call(
            clients.rights.ListRetentionPolicies, rights_pb2.ListRetentionPoliciesRequest(), None
        )
        return next((p.days for p in found.policies if p.kind == "failed_logins"), 0)

    async def record(detail: str) -> None:
        await accounts.record_access(
            actor="service:console", role="service", action="retention.swept", detail=detail
        )

    async def once() -> int:
        return await retention.sweep(
            policy_days=policy_days,
            remove_before=accounts.forget_failed_logins,
            record=record,
            now=datetime.now(UTC),
        )

    return retention.Schedule(once, interval=interval)


def main() -> None:
    settings = Settings.from_env()
    process.run("console", lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
