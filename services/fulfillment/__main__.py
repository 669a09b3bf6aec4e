"""`python -m services.fulfillment`: the catalogue, purchase history and reply-fulfillment gRPC API, with
the relay that publishes fulfillment's outbox (its own events and those its worker writes) and the
periodic evaluation of restock prompts, and the mailer that hands printed letters going by email to
channels."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment import demo_carrier, grpc_api, letter_mail, letters, privacy, restock
from services.fulfillment.channels_client import ChannelsLetters
from services.fulfillment.directory import ContactsDirectory
from services.fulfillment.letter_mail_store import SqlMailStore
from services.fulfillment.reply_store import SqlStore as ReplyStore
from services.fulfillment.restock_contacts import CantFindContacts
from services.fulfillment.restock_store import SqlStore as RestockStore
from services.fulfillment.store import SqlStore
from services.runtime import bus, grpcio, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.outbox import Relay
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind, grpc_target

log = logging.getLogger("services.fulfillment")


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    bind: str,
    amqp_url: str | None = None,
    contacts_target: str | None = None,
    demo_carrier_seconds: float = 0.0,
    restock_seconds: float = 0.0,
    cant_find_issue: str = restock.CANT_FIND_ISSUE,
    letters_by_email: LettersByEmail | None = None,
    clock: Callable[[], datetime] = restock.utc_now,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until `stop` is set, then let calls in flight and the outbox batch finish, and close.

    Without `amqp_url` the outbox is left for another relay (the read-side tests need no broker).
    Restock prompts are evaluated every `restock_seconds` at `clock()`'s time (0: not here); with a
    broker, contacts coded `cant_find_issue` (or under it) about a product are counted as misses.
    """
    pool = await open_pool(
        database_url, schema="fulfillment", max_size=env_int("CRS_FULFILLMENT_DB_POOL_SIZE", 10)
    )
    contacts = grpcio.channel(contacts_target or grpc_target("contacts"))
    by_email = letters_by_email or LettersByEmail(interval=0.0)
    channels = grpcio.channel(by_email.channels_target or grpc_target("channels"))
    connection = await bus.connect(amqp_url) if amqp_url else None
    tasks: list[asyncio.Task] = []
    try:
        relay = consumer = None
        replies, restocking, directory = ReplyStore(pool), RestockStore(pool), ContactsDirectory(contacts)
        if connection is not None:
            publisher = await bus.Publisher(connection, "fulfillment").open()
            relay = Relay(pool, publisher, schema="fulfillment")
            tasks.append(asyncio.create_task(relay.run()))
            misses = CantFindContacts(directory, replies, restocking, cant_find_issue)
            consumer = bus.Consumer(connection, "fulfillment", misses.subscriptions())
            await consumer.start()
        tasks.append(asyncio.create_task(_warm_letters()))
        if demo_carrier_seconds > 0:
            tasks.append(asyncio.create_task(demo_carrier.run(replies, demo_carrier_seconds, stop)))
        if restock_seconds > 0:
            tasks.append(asyncio.create_task(restock.run(restocking, restock_seconds, stop, clock)))
        if by_email.interval > 0:
            mailer = letter_mail.Mailer(
                store=SqlMailStore(pool),
                channel=ChannelsLetters(channels, deadline=by_email.deadline),
                retry_seconds=by_email.retry_seconds,
            )
            tasks.append(asyncio.create_task(letter_mail.run(mailer, by_email.interval, stop)))
        api = grpc_api.servicer(SqlStore(pool), replies, directory, restocking)
        server = Server([api, privacy.servicer(pool)], bind)
        port = await server.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await server.stop(env_float("CRS_FULFILLMENT_SHUTDOWN_GRACE", 5.0))
        if consumer is not None:
            await consumer.stop()
        if relay is not None:
            relay.stop()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        if connection is not None:
            await connection.close()
        await contacts.close()
        await channels.close()
        await pool.close()


@dataclass(frozen=True)
class LettersByEmail:
    """The mailer of letters going by email: every `interval` seconds (0: not in this process), SendLetter
    with `deadline`, and a first retry after `retry_seconds`, doubling."""

    interval: float = 2.0
    retry_seconds: float = 5.0
    deadline: float = 10.0
    channels_target: str = ""

    @classmethod
    def from_env(cls) -> LettersByEmail:
        return cls(
            interval=env_float("CRS_FULFILLMENT_LETTER_MAIL_SECONDS", 2.0),
            retry_seconds=env_float("CRS_FULFILLMENT_LETTER_RETRY_SECONDS", 5.0),
            deadline=env_float("CRS_FULFILLMENT_CHANNELS_DEADLINE", 10.0),
        )


async def _warm_letters() -> None:
    try:
        await asyncio.to_thread(letters.warm_up)
    except Exception:
        log.exception("letter renderer warm-up failed; the first letter will load it")


async def main(stop: asyncio.Event) -> None:
    common = Common.from_env()
    await serve(
        stop,
        database_url=common.database_url,
        amqp_url=common.amqp_url,
        bind=grpc_bind("fulfillment"),
        demo_carrier_seconds=env_float("CRS_FULFILLMENT_DEMO_CARRIER_SECONDS", 0.0),
        restock_seconds=env_float("CRS_FULFILLMENT_RESTOCK_SECONDS", 300.0),
        cant_find_issue=env("CRS_FULFILLMENT_CANT_FIND_ISSUE", restock.CANT_FIND_ISSUE),
        letters_by_email=LettersByEmail.from_env(),
    )


if __name__ == "__main__":
    process.run("fulfillment", main)
