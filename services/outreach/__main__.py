"""`python -m services.outreach`: the Campaigns and Consent gRPC APIs; the consumers that feed outreach's read
models (contacts' consumers, casework's contacts, fulfillment's orders), turn insights' `recall_opened` into
a notice campaign and fulfillment's `shipment_changed` into shipping notices (with their retry sweep); the
campaign sender; contacts' `contact_resolved` into planned surveys and fulfillment's orders into reorder
reminders, each sent by its sweep when due; the SurveyAnswers API behind the console's survey page (each
answer noted on its case through contacts' Casework); and the outbox relay that publishes `consent_changed`
and `survey_answered`. Every message goes out as channels' notices (SendNotices). Every sweep reads the injected clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.outreach import (
    campaigns_grpc,
    consent_grpc,
    consumers_consume,
    facts_consume,
    privacy,
    recalls_consume,
    segments_grpc,
    shipping_desk,
    survey_answers_grpc,
    survey_desk,
    survey_rules_grpc,
    timers,
)
from services.outreach.campaign_rounds import CampaignRounds
from services.outreach.campaigns_store import CampaignStore
from services.outreach.case_notes import CaseNotes
from services.outreach.consumers_store import (
    Addresses,
    Consents,
    ConsumerStore,
    Recipients,
    ServiceWithdrawals,
    Standing,
)
from services.outreach.mailers import ReminderMailer, SurveyMailer
from services.outreach.notices_client import ChannelsNotices
from services.outreach.recalls_store import RecallStore
from services.outreach.reorder_desk import ReorderDesk
from services.outreach.segments_store import SegmentStore
from services.outreach.shipping_desk import ShippingDesk
from services.outreach.shipping_store import ShippingStore
from services.outreach.survey_desk import SurveyDesk
from services.outreach.survey_store import SurveyStore
from services.outreach.unsubscribe import Links
from services.runtime import bus, grpcio, outbox, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind, grpc_target

log = logging.getLogger("services.outreach")
SCHEMA = "outreach"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Desks:
    """The senders that run on events and timers, over one clock."""

    shipping: ShippingDesk
    surveys: SurveyDesk
    reorder: ReorderDesk
    survey_mailer: SurveyMailer
    consents: Consents

    @classmethod
    def over(
        cls,
        pool,
        consumers: ConsumerStore,
        notices,
        links: Links,
        secret: bytes,
        clock: Clock,
        note_case=None,
    ) -> Desks:
        consents, surveys = Consents(consumers, clock=clock), SurveyStore(pool)
        return cls(
            ShippingDesk(ShippingStore(pool), consumers, ServiceWithdrawals(consumers), notices, clock=clock),
            SurveyDesk(surveys, secret=secret, clock=clock, note_case=note_case),
            ReorderDesk(
                surveys,
                clock=clock,
                recipient=Recipients(consumers),
                send=ReminderMailer(notices, consumers, links),
                rules=consumers.rules,
            ),
            SurveyMailer(notices, consumers, links, base_url=links.public_base),
            consents,
        )

    async def surveys_due(self) -> list[str]:
        return await self.surveys.due(consents=self.consents, send=self.survey_mailer)

    def sweeps(self, stop: asyncio.Event) -> list[asyncio.Task]:
        """The timers, each every its configured seconds: shipping's retries, surveys and reminders due."""
        every = (
            ("shipping-notice", self.shipping.sweep, env_float("CRS_OUTREACH_SHIPPING_SWEEP_SECONDS", 60.0)),
            ("survey", self.surveys_due, env_float("CRS_OUTREACH_SURVEY_SWEEP_SECONDS", 60.0)),
            ("reorder-reminder", self.reorder.due, env_float("CRS_OUTREACH_REORDER_SWEEP_SECONDS", 300.0)),
        )
        return [
            asyncio.create_task(timers.run_every(what, sweep, seconds, stop))
            for what, sweep, seconds in every
        ]


def subscriptions(
    recalls: RecallStore, campaigns: CampaignStore, consumers: ConsumerStore, desks: Desks
) -> list[bus.Subscription]:
    """Every queue binding outreach has: contacts.events, fulfillment.events and insights.events."""
    addresses = Addresses(consumers)
    return [
        *consumers_consume.subscriptions(consumers),
        *facts_consume.subscriptions(recalls),
        *facts_consume.order_subscriptions(recalls, desks.reorder),
        *recalls_consume.subscriptions(recalls_consume.RecallOpened(recalls, campaigns, addresses)),
        *shipping_desk.subscriptions(desks.shipping),
        *survey_desk.subscriptions(desks.surveys),
    ]


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    amqp_url: str,
    bind: str,
    channels: str,
    contacts: str,
    on_ready: Callable[[int], None] | None = None,
    clock: Clock = utc_now,
) -> None:
    pool = await open_pool(database_url, schema=SCHEMA, max_size=env_int("CRS_OUTREACH_DB_POOL_SIZE", 5))
    connection = await bus.connect(amqp_url)
    to_channels, to_contacts = grpcio.channel(channels), grpcio.channel(contacts)
    try:
        publisher = await bus.Publisher(connection, SCHEMA).open()
        relay = outbox.Relay(pool, publisher, schema=SCHEMA)
        relay_task = asyncio.create_task(relay.run())
        recalls, campaigns, consumers = RecallStore(pool), CampaignStore(pool), ConsumerStore(pool)
        notices = ChannelsNotices(to_channels, deadline=env_float("CRS_OUTREACH_CHANNELS_DEADLINE", 20.0))
        # A declared secret: production refuses its development value.
        link_secret = env("CRS_OUTREACH_LINK_SECRET", "").encode()
        links = Links(env("CRS_PUBLIC_URL", "http://127.0.0.1:8080"), link_secret, clock=clock)
        notes = CaseNotes(to_contacts, deadline=env_float("CRS_OUTREACH_CONTACTS_DEADLINE", 10.0))
        desks = Desks.over(pool, consumers, notices, links, link_secret, clock, note_case=notes)
        consumer = bus.Consumer(connection, SCHEMA, subscriptions(recalls, campaigns, consumers, desks))
        await consumer.start()
        sweeps = desks.sweeps(stop)
        server = Server(
            [
                campaigns_grpc.servicer(campaigns, recalls, notices, SegmentStore(pool)),
                segments_grpc.servicer(SegmentStore(pool)),
                survey_rules_grpc.servicer(SurveyStore(pool)),
                consent_grpc.servicer(consumers, link_secret),
                survey_answers_grpc.servicer(desks.surveys),
                privacy.servicer(pool),
            ],
            bind,
        )
        port = await server.start()
        rounds = CampaignRounds(
            campaigns,
            Standing(consumers),
            notices,
            links,
            clock=clock,
            monotonic=time.monotonic,
            idle=env_float("CRS_OUTREACH_SENDER_IDLE", 2.0),
        )
        sending = asyncio.create_task(rounds.run(stop))
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await asyncio.gather(*sweeps)
        await consumer.stop()
        await sending
        await server.stop(env_float("CRS_OUTREACH_SHUTDOWN_GRACE", 5.0))
        relay.stop()
        await relay_task
    finally:
        await to_channels.close()
        await to_contacts.close()
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
        contacts=grpc_target("contacts"),
    )


if __name__ == "__main__":
    process.run("outreach", main)
