"""Composition root of the screenpop service: store, sources, bus, pop router and its gRPC API.

Screenpop composes and routes pops, and nothing else: the pages and sockets people use are the console's
(services/console). Start reading at bus_consume.py (a ringing in, a pop out), then compose.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from services.runtime import bus, db, process
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env_float, env_int, grpc_bind, grpc_target
from services.screenpop import grpc_api, privacy
from services.screenpop.bus_consume import CallEvents
from services.screenpop.compose import Budget, Deadlines
from services.screenpop.routing import PopRouter
from services.screenpop.sources import GrpcSources
from services.screenpop.store import Store

log = logging.getLogger("services.screenpop")

SCHEMA = "screenpop"


@dataclass(frozen=True)
class Settings:
    database_url: str
    amqp_url: str
    home_region: str
    grpc_bind: str
    contacts: str
    billing: str
    fulfillment: str
    insights: str
    deadlines: Deadlines
    budget: Budget
    recent_contacts: int
    pop_ttl_ms: int
    shutdown_grace: float

    @classmethod
    def from_env(cls) -> Settings:
        common = Common.from_env()
        return cls(
            database_url=common.database_url,
            amqp_url=common.amqp_url,
            home_region=common.home_region,
            grpc_bind=grpc_bind("screenpop"),
            contacts=grpc_target("contacts"),
            billing=grpc_target("billing"),
            fulfillment=grpc_target("fulfillment"),
            insights=grpc_target("insights"),
            deadlines=Deadlines(
                match=env_int("CRS_SCREENPOP_MATCH_DEADLINE_MS", 300) / 1000,
                source=env_int("CRS_SCREENPOP_SOURCE_DEADLINE_MS", 250) / 1000,
            ),
            budget=Budget(
                ring=env_int("CRS_SCREENPOP_RING_BUDGET_MS", 1000) / 1000,
                least=env_int("CRS_SCREENPOP_LEAST_SOURCE_MS", 50) / 1000,
            ),
            recent_contacts=env_int("CRS_SCREENPOP_RECENT_CONTACTS", 5),
            pop_ttl_ms=env_int("CRS_SCREENPOP_POP_TTL_S", 120) * 1000,
            shutdown_grace=env_float("CRS_SCREENPOP_SHUTDOWN_GRACE", 5.0),
        )


async def serve(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[int], None] | None = None
) -> None:
    """Run screenpop until `stop` is set, then drain: stop consuming, stop the API, then the rest."""
    pool = await db.open_pool(settings.database_url, schema=SCHEMA, min_size=2, max_size=12)
    store = Store(pool)
    connection = await bus.connect(settings.amqp_url)
    sources = GrpcSources(
        contacts=settings.contacts,
        billing=settings.billing,
        fulfillment=settings.fulfillment,
        insights=settings.insights,
    )
    router = PopRouter(connection, ttl_ms=settings.pop_ttl_ms)
    await router.start()
    calls = CallEvents(
        store=store,
        sources=sources,
        router=router,
        deadlines=settings.deadlines,
        region=settings.home_region,
        recent_contacts=settings.recent_contacts,
        budget=settings.budget,
    )
    consumer = bus.Consumer(
        connection,
        "screenpop",
        [
            bus.Subscription("telephony", "call_ringing", calls.on_ringing),
            bus.Subscription("telephony", "call_answered", calls.on_answered),
            bus.Subscription("telephony", "call_ended", calls.on_ended),
        ],
    )
    await consumer.start()
    # Serving (and healthy) once the consumer is bound, so a ringing published after that is popped.
    server = Server([grpc_api.servicer(store), privacy.servicer(pool)], settings.grpc_bind)
    port = await server.start()
    forgetting = asyncio.create_task(forget_old_calls(store, stop))
    log.info("screenpop composing pops; its API on port %d", port)
    if on_ready is not None:
        on_ready(port)
    try:
        await stop.wait()
    finally:
        await forgetting
        await consumer.stop()
        await server.stop(settings.shutdown_grace)
        await sources.close()
        await connection.close()
        await pool.close()


async def forget_old_calls(store: Store, stop: asyncio.Event) -> None:
    """Every few minutes, drop the record of calls rung days ago; off the path of any call."""
    while not stop.is_set():
        try:
            await store.forget_old_calls(older_than=timedelta(days=2))
        except Exception:
            log.warning("could not forget old calls; will try again", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=600)


def main() -> None:
    settings = Settings.from_env()
    process.run("screenpop", lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
