"""`python -m services.outreach`: the Campaigns and Consent gRPC APIs; the consumers that feed outreach's read
models (contacts' consumers, casework's contacts, fulfillment's orders), turn insights' `recall_opened` into
a notice campaign and fulfillment's `shipment_changed` into shipping notices (with their retry sweep); the
campaign sender; and the outbox relay that publishes `consent_changed`. Every message goes out as
channels' notices (SendNotices)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from services.outreach import (
    campaigns_grpc,
    consent_grpc,
    consumers_consume,
    facts_consume,
    recalls_consume,
    segments_grpc,
    shipping_desk,
    survey_rules_grpc,
)
from services.outreach.campaign_rounds import CampaignRounds
from services.outreach.campaigns_store import CampaignStore
from services.outreach.consumers_store import Addresses, ConsumerStore, ServiceWithdrawals, Standing
from services.outreach.notices_client import ChannelsNotices
from services.outreach.recalls_store import RecallStore
from services.outreach.segments_store import SegmentStore
from services.outreach.shipping_desk import ShippingDesk
from services.outreach.shipping_store import ShippingStore
from services.outreach.survey_store import SurveyStore
from services.outreach.unsubscribe import Links
from services.runtime import bus, grpcio, outbox, process
from services.runtime.db import open_pool
from services.runtime.events import now
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind, grpc_target

log = logging.getLogger("services.outreach")
SCHEMA = "outreach"


def subscriptions(
    recalls: RecallStore, campaigns: CampaignStore, consumers: ConsumerStore, shipping: ShippingDesk
) -> list[bus.Subscription]:
    """Every queue binding outreach has: contacts.events, fulfillment.events and insights.events."""
    addresses = Addresses(consumers)
    return [
        *consumers_consume.subscriptions(consumers),
        *facts_consume.subscriptions(recalls),
        *facts_consume.order_subscriptions(recalls),
        *recalls_consume.subscriptions(recalls_consume.RecallOpened(recalls, campaigns, addresses)),
        *shipping_desk.subscriptions(shipping),
    ]


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    amqp_url: str,
    bind: str,
    channels: str,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    pool = await open_pool(database_url, schema=SCHEMA, max_size=env_int("CRS_OUTREACH_DB_POOL_SIZE", 5))
    connection = await bus.connect(amqp_url)
    to_channels = grpcio.channel(channels)
    try:
        publisher = await bus.Publisher(connection, SCHEMA).open()
        relay = outbox.Relay(pool, publisher, schema=SCHEMA)
        relay_task = asyncio.create_task(relay.run())
        recalls, campaigns, consumers = RecallStore(pool), CampaignStore(pool), ConsumerStore(pool)
        notices = ChannelsNotices(to_channels, deadline=env_float("CRS_OUTREACH_CHANNELS_DEADLINE", 20.0))
        shipping = ShippingDesk(
            ShippingStore(pool), consumers, ServiceWithdrawals(consumers), notices, clock=now
        )
        consumer = bus.Consumer(connection, SCHEMA, subscriptions(recalls, campaigns, consumers, shipping))
        await consumer.start()
        sweeps = asyncio.create_task(
            shipping_desk.run_sweeps(shipping, env_float("CRS_OUTREACH_SHIPPING_SWEEP_SECONDS", 60.0), stop)
        )
        # A declared secret: production refuses its development value.
        link_secret = env("CRS_OUTREACH_LINK_SECRET", "").encode()
        server = Server(
            [
                campaigns_grpc.servicer(campaigns, recalls, notices, SegmentStore(pool)),
                segments_grpc.servicer(SegmentStore(pool)),
                survey_rules_grpc.servicer(SurveyStore(pool)),
                consent_grpc.servicer(consumers, link_secret),
            ],
            bind,
        )
        port = await server.start()
        links = Links(
            env("CRS_PUBLIC_URL", "http://127.0.0.1:8080"), link_secret, clock=lambda: datetime.now(UTC)
        )
        rounds = CampaignRounds(
            campaigns,
            Standing(consumers),
            notices,
            links,
            clock=lambda: datetime.now(UTC),
            monotonic=time.monotonic,
            idle=env_float("CRS_OUTREACH_SENDER_IDLE", 2.0),
        )
        sending = asyncio.create_task(rounds.run(stop))
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await sweeps
        await consumer.stop()
        await sending
        await server.stop(env_float("CRS_OUTREACH_SHUTDOWN_GRACE", 5.0))
        relay.stop()
        await relay_task
    finally:
        await to_channels.close()
        await connection.close()
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    common = Common.from_env()
    await serve(
        stop,
        database_url=common.database_url,
        amqp_url=common.amqp_url,
        bind=grpc_bind("outreach"),
        channels=grpc_target("channels"),
    )


if __name__ == "__main__":
    process.run("outreach", main)
