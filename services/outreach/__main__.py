"""`python -m services.outreach`: the Campaigns gRPC API; the consumers that feed outreach's read models
(casework's contacts, fulfillment's orders), turn insights' `recall_opened` into a notice campaign and
fulfillment's `shipment_changed` into shipping notices (with their retry sweep); and the campaign sender.
Every message goes out as channels' notices (SendNotices)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from services.outreach import campaigns_grpc, facts_consume, recalls_consume, shipping_desk
from services.outreach.campaign_rounds import CampaignRounds
from services.outreach.campaigns_store import CampaignStore
from services.outreach.notices_client import ChannelsNotices
from services.outreach.reach import Reach
from services.outreach.recalls_store import RecallStore
from services.outreach.shipping_desk import ShippingDesk
from services.outreach.shipping_store import ShippingStore
from services.runtime import bus, grpcio, process
from services.runtime.db import open_pool
from services.runtime.events import now
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env_float, env_int, grpc_bind, grpc_target

log = logging.getLogger("services.outreach")


class NoAddressesYet:
    """Outreach holds no consumer addresses until the consumer and consent read model is wired
    (docs/outreach.md): a recall campaign opens and starts, and its recipients come with that model."""

    async def of(self, consumer_ids: list[str]) -> dict[str, tuple[str, str]]:
        if consumer_ids:
            log.info("%d affected consumers, no addresses held yet", len(consumer_ids))
        return {}


# Seams for the adapters still to come (docs/outreach.md, "Shipping notices"): until they are wired a
# shipping notice is claimed and kept pending, and the sweep sends it once they are.
class NobodyReachableYet:
    """The `Reachable` port until the consumer read model is wired: no consumer's address is known."""

    async def of(self, consumer_ids: list[str]) -> dict[str, Reach]:
        return {}


class NoServiceWithdrawalsYet:
    """The service-consent check until the consent read model is wired: no consent is recorded anywhere
    yet, so nobody has withdrawn one."""

    async def withdrawn(self, consumer_ids: list[str]) -> set[str]:
        return set()


class NoStandingYet:
    """No consent is held until the consent read model is wired: the sender suppresses every recipient
    (no consent), so nobody is written to without it."""

    async def of(self, consumer_ids: list[str], now: datetime) -> dict[str, tuple[frozenset[str], int]]:
        return {}


class NoUnsubscribeLinksYet:
    """The one-click unsubscribe links come with the consent model; a marketing or survey email is never
    sent without one."""

    def link(self, consumer_id: str, purpose: str) -> str:
        return ""


def subscriptions(
    recalls: RecallStore,
    campaigns: CampaignStore,
    addresses: recalls_consume.Addresses,
    shipping: ShippingDesk,
) -> list[bus.Subscription]:
    """Every queue binding outreach has: contacts.events, fulfillment.events and insights.events."""
    return [
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
    pool = await open_pool(database_url, schema="outreach", max_size=env_int("CRS_OUTREACH_DB_POOL_SIZE", 5))
    connection = await bus.connect(amqp_url)
    to_channels = grpcio.channel(channels)
    try:
        recalls, campaigns = RecallStore(pool), CampaignStore(pool)
        notices = ChannelsNotices(to_channels, deadline=env_float("CRS_OUTREACH_CHANNELS_DEADLINE", 20.0))
        shipping = ShippingDesk(
            ShippingStore(pool), NobodyReachableYet(), NoServiceWithdrawalsYet(), notices, clock=now
        )
        consumer = bus.Consumer(
            connection, "outreach", subscriptions(recalls, campaigns, NoAddressesYet(), shipping)
        )
        await consumer.start()
        sweeps = asyncio.create_task(
            shipping_desk.run_sweeps(shipping, env_float("CRS_OUTREACH_SHIPPING_SWEEP_SECONDS", 60.0), stop)
        )
        server = Server([campaigns_grpc.servicer(campaigns, recalls, notices)], bind)
        port = await server.start()
        rounds = CampaignRounds(
            campaigns,
            NoStandingYet(),
            notices,
            NoUnsubscribeLinksYet(),
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
