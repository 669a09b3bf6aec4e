"""`python -m services.outreach`: the Campaigns and Consent gRPC APIs, the consumers that feed outreach's read
models (contacts' consumers, casework's contacts, fulfillment's orders) and turn insights' `recall_opened`
into a notice campaign, and the outbox relay that publishes `consent_changed`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.outreach import campaigns_grpc, consent_grpc, consumers_consume, facts_consume, recalls_consume
from services.outreach.campaigns_store import CampaignStore
from services.outreach.consumers_store import Addresses, ConsumerStore
from services.outreach.recalls_store import RecallStore
from services.runtime import bus, outbox, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind

log = logging.getLogger("services.outreach")
SCHEMA = "outreach"


def subscriptions(
    recalls: RecallStore, campaigns: CampaignStore, consumers: ConsumerStore
) -> list[bus.Subscription]:
    """Every queue binding outreach has: contacts.events, fulfillment.events and insights.events."""
    addresses = Addresses(consumers)
    return [
        *consumers_consume.subscriptions(consumers),
        *facts_consume.subscriptions(recalls),
        *facts_consume.order_subscriptions(recalls),
        *recalls_consume.subscriptions(recalls_consume.RecallOpened(recalls, campaigns, addresses)),
    ]


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    amqp_url: str,
    bind: str,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    pool = await open_pool(database_url, schema=SCHEMA, max_size=env_int("CRS_OUTREACH_DB_POOL_SIZE", 5))
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, SCHEMA).open()
        relay = outbox.Relay(pool, publisher, schema=SCHEMA)
        relay_task = asyncio.create_task(relay.run())
        recalls, campaigns, consumers = RecallStore(pool), CampaignStore(pool), ConsumerStore(pool)
        consumer = bus.Consumer(connection, SCHEMA, subscriptions(recalls, campaigns, consumers))
        await consumer.start()
        # A declared secret: production refuses its development value.
        link_secret = env("CRS_OUTREACH_LINK_SECRET", "").encode()
        server = Server(
            [campaigns_grpc.servicer(campaigns, recalls), consent_grpc.servicer(consumers, link_secret)], bind
        )
        port = await server.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await consumer.stop()
        await server.stop(env_float("CRS_OUTREACH_SHUTDOWN_GRACE", 5.0))
        relay.stop()
        await relay_task
    finally:
        await connection.close()
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    common = Common.from_env()
    await serve(stop, database_url=common.database_url, amqp_url=common.amqp_url, bind=grpc_bind("outreach"))


if __name__ == "__main__":
    process.run("outreach", main)
