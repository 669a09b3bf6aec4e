"""`python -m services.insights`: read models from the bus, units sold, CPMU and the early warning over
gRPC, the relay that publishes its alerts, and the staff mail (alerts to QA, the weekly digest, warnings
to legal) sent through channels."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.insights import bus_consume, digest_pdf, grpc_api, staff_grpc, themes_grpc
from services.insights.channels_client import ChannelsNotices
from services.insights.knowledge_client import KnowledgeEmbedder
from services.insights.service import Insights, now
from services.insights.staff_mail import StaffMail
from services.insights.staff_store import SqlStaffStore
from services.insights.store import SqlStore
from services.insights.themes import MAX_AGE_SECONDS, ThemeFinder
from services.insights.themes_store import SqlThemeStore
from services.runtime import bus, grpcio, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.outbox import Relay
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind, grpc_target

log = logging.getLogger("services.insights")


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    amqp_url: str,
    bind: str,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    pool = await open_pool(database_url, schema="insights", max_size=env_int("CRS_INSIGHTS_DB_POOL_SIZE", 5))
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "insights").open()
        relay = Relay(pool, publisher, schema="insights")
        relay_task = asyncio.create_task(relay.run())
        insights = Insights(SqlStore(pool))
        # Themes embed verbatims with knowledge's model; "tfidf" keeps them to insights' own representation.
        knowledge = None
        if env("CRS_INSIGHTS_THEMES_EMBEDDER", "knowledge") == "knowledge":
            knowledge = grpcio.channel(grpc_target("knowledge"))
        themes = ThemeFinder(
            SqlThemeStore(pool),
            KnowledgeEmbedder(knowledge) if knowledge is not None else None,
            max_age_seconds=env_float("CRS_INSIGHTS_THEMES_MAX_AGE_SECONDS", MAX_AGE_SECONDS),
        )
        if env("CRS_INSIGHTS_REBUILD", "") == "1":
            log.info("rebuilt the read models from %d logged contact events", await insights.rebuild())
        insights.dirty = True  # recompute once at start, with whatever changed while it was down
        channels = grpcio.channel(grpc_target("channels"))
        staff_store = SqlStaffStore(pool)
        mail = StaffMail(
            staff_store,
            insights,
            ChannelsNotices(channels),
            digest_pdf.render,
            console_url=env("CRS_INSIGHTS_CONSOLE_URL", "http://127.0.0.1:8080"),
            clock=now,
            digest_hour=env_int("CRS_INSIGHTS_DIGEST_HOUR", 6),
        )
        mailer = asyncio.create_task(mail.run(stop, env_float("CRS_INSIGHTS_STAFF_MAIL_SECONDS", 10.0)))
        subscriptions = [*bus_consume.subscriptions(insights, themes), bus_consume.warnings(staff_store)]
        consumer = bus.Consumer(connection, "insights", subscriptions)
        await consumer.start()
        recompute = asyncio.create_task(
            bus_consume.recompute_when_dirty(
                insights, stop, env_float("CRS_INSIGHTS_RECOMPUTE_SECONDS", 30.0)
            )
        )
        server = Server(
            [grpc_api.servicer(insights), themes_grpc.servicer(themes), staff_grpc.servicer(mail)], bind
        )
        port = await server.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await consumer.stop()
        await recompute
        await mailer
        await server.stop(env_float("CRS_INSIGHTS_SHUTDOWN_GRACE", 5.0))
        relay.stop()
        await relay_task
        await channels.close()
        if knowledge is not None:
            await knowledge.close()
    finally:
        await connection.close()
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    common = Common.from_env()
    await serve(stop, database_url=common.database_url, amqp_url=common.amqp_url, bind=grpc_bind("insights"))


if __name__ == "__main__":
    process.run("insights", main)
