"""Composition root of the contacts service: the consumer directory and casework in one process.

Each side gets the other's narrow interface (services/contacts/interfaces.py) here and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from crs.contacts.v1 import contacts_pb2, contacts_pb2_grpc

from services.contacts.casework.wiring import CaseworkParts, CaseworkSettings
from services.contacts.consumers.grpc_api import ContactsServicer
from services.contacts.consumers.lookup import DirectoryLookup
from services.contacts.consumers.store import SCHEMA, ContactsStore
from services.contacts.privacy.wiring import PrivacyParts, PrivacySettings
from services.runtime import bus, db, outbox, process
from services.runtime.grpcio import Server, Servicer
from services.runtime.settings import Common, env, grpc_bind, split_hostport


@dataclass(frozen=True)
class Settings:
    database_url: str
    amqp_url: str
    home_region: str
    grpc_bind: str
    http_bind: str
    casework: CaseworkSettings = field(default_factory=CaseworkSettings.from_env)
    privacy: PrivacySettings = field(default_factory=PrivacySettings.from_env)

    @classmethod
    def from_env(cls) -> Settings:
        common = Common.from_env()
        http_bind = env("CRS_CONTACTS_HTTP", "127.0.0.1:8081")
        return cls(
            database_url=common.database_url,
            amqp_url=common.amqp_url,
            home_region=common.home_region,
            grpc_bind=grpc_bind("contacts"),
            http_bind=http_bind,
        )


@dataclass(frozen=True)
class Bound:
    grpc_port: int
    http_port: int


async def serve(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[Bound], None] | None = None
) -> None:
    """Run contacts until `stop` is set, then drain: consumers, then servers, then the outbox."""
    pool = await db.open_pool(settings.database_url, schema=SCHEMA, min_size=4, max_size=16)
    store = ContactsStore(pool)
    connection = await bus.connect(settings.amqp_url)
    publisher = await bus.Publisher(connection, "contacts").open()
    relay = outbox.Relay(pool, publisher, schema=SCHEMA)
    casework = CaseworkParts(
        pool, consumers=DirectoryLookup(store, region=settings.home_region), settings=settings.casework
    )
    consumer = bus.Consumer(connection, "contacts", casework.subscriptions)
    rights = PrivacyParts(pool, settings.privacy)
    servicer = ContactsServicer(store=store, history=casework.views, home_region=settings.home_region)
    server = Server(
        [
            Servicer(
                servicer,
                contacts_pb2_grpc.add_ContactsServicer_to_server,
                contacts_pb2.DESCRIPTOR.services_by_name["Contacts"].full_name,
            ),
            casework.grpc_servicer,
            casework.inbox_servicer,
            casework.regulatory_servicer,
            *rights.grpc_servicers,
        ],
        settings.grpc_bind,
    )
    app = casework.web_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    http_host, http_port = split_hostport(settings.http_bind)
    site = web.TCPSite(runner, http_host, http_port)

    relay_task = asyncio.create_task(relay.run())
    grpc_port = await server.start()
    await site.start()
    await consumer.start()
    casework.start()
    rights.start()
    bound = Bound(grpc_port, runner.addresses[0][1])
    if on_ready:
        on_ready(bound)
    await stop.wait()

    await consumer.stop()
    await casework.stop()
    await rights.stop()
    await server.stop(grace=5)
    await runner.cleanup()
    relay.stop()
    await relay_task
    await connection.close()
    await pool.close()


if __name__ == "__main__":
    process.run("contacts", lambda stop: serve(Settings.from_env(), stop))
