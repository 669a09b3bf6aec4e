"""The outbox and its relay against real PostgreSQL and RabbitMQ: every change's event arrives once."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from crs.contacts.v1 import contacts_pb2 as pb

from services.contacts.consumers import directory
from services.contacts.consumers.model import Consumer, Phone
from services.contacts.consumers.store import SCHEMA, ContactsStore
from services.runtime import bus, db, migrate, outbox
from tests.support import infra
from tests.support.proxy import CuttableProxy
from tests.support.wait import async_wait_for


@pytest.fixture
async def store():
    """A database of its own: no other relay of this run may drain this outbox."""
    name = infra.unique_name("crs_outbox")
    url = infra.create_database(name)
    migrate.migrate(url, SCHEMA)
    pool = await db.open_pool(url, schema=SCHEMA)
    yield ContactsStore(pool)
    await pool.close()
    infra.drop_database(name)


@pytest.fixture
async def queue(amqp_url):
    """A queue bound to contacts' consumer_created events, and what it has received so far."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await bus.declare_events_exchange(channel, "contacts")
    declared = await channel.declare_queue(exclusive=True)
    await declared.bind(exchange, routing_key="consumer_created")
    received: list[dict] = []

    async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        received.append(json.loads(message.body))
        await message.ack()

    await declared.consume(collect)
    yield received
    await connection.close()


async def add_consumers(store, count, prefix):
    for index in range(count):
        await directory.create_consumer(
            store=store,
            consumer=Consumer(name=f"{prefix} {index}", phones=[Phone(f"+1 614 555 {index % 10000:04d}")]),
            region="US",
        )


def names(received, prefix):
    return [
        e["data"]["consumer"]["name"] for e in received if e["data"]["consumer"]["name"].startswith(prefix)
    ]


async def start_relay(store, amqp_url):
    connection = await bus.connect(amqp_url)
    publisher = await bus.Publisher(connection, "contacts").open()
    relay = outbox.Relay(store.pool, publisher, schema=SCHEMA, poll_interval=0.2)
    return relay, asyncio.create_task(relay.run()), connection


async def stop_relay(relay, task, connection):
    relay.stop()
    await task
    await connection.close()


async def test_each_change_reaches_the_queue_exactly_once_across_a_relay_restart(store, queue, amqp_url):
    relay, task, connection = await start_relay(store, amqp_url)
    writer = asyncio.create_task(add_consumers(store, 300, "Restart"))
    await async_wait_for(lambda: _at_least(queue, "Restart", 50), timeout=30, what="the first events")
    await stop_relay(relay, task, connection)  # in the middle of the run
    relay, task, connection = await start_relay(store, amqp_url)
    await writer
    await async_wait_for(lambda: _at_least(queue, "Restart", 300), timeout=60, what="all 300 events")
    await stop_relay(relay, task, connection)
    delivered = names(queue, "Restart")
    assert sorted(delivered) == sorted(f"Restart {i}" for i in range(300))
    assert len({e["id"] for e in queue}) == len(queue)
    assert await outbox_size(store) == 0


async def test_a_broker_outage_loses_no_event(store, queue, amqp_url):
    parts = urlsplit(amqp_url)
    proxy = CuttableProxy(parts.hostname, parts.port or 5672)
    await proxy.start()
    via_proxy = urlunsplit(
        (parts.scheme, f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}", parts.path, "", "")
    )
    relay, task, connection = await start_relay(store, via_proxy)
    await add_consumers(store, 20, "Before")
    await async_wait_for(lambda: _at_least(queue, "Before", 20), timeout=30, what="events before the outage")

    await proxy.cut()
    await add_consumers(store, 50, "During")  # writes go on while the broker is unreachable
    assert await outbox_size(store) == 50
    assert names(queue, "During") == []

    await proxy.restore()
    await async_wait_for(
        lambda: _at_least(queue, "During", 50), timeout=60, what="events held during the outage"
    )
    await stop_relay(relay, task, connection)
    await proxy.cut()
    assert sorted(names(queue, "During")) == sorted(f"During {i}" for i in range(50))
    assert await outbox_size(store) == 0


async def _at_least(received, prefix, count):
    return len(names(received, prefix)) >= count


async def outbox_size(store) -> int:
    async with store.pool.connection() as conn:
        (count,) = await (await conn.execute("SELECT count(*) FROM outbox")).fetchone()
    return count


def test_event_body_is_a_cloudevent_with_the_protobuf_json_data():
    from services.contacts.consumers.convert import consumer_created
    from services.contacts.consumers.model import Consumer as DomainConsumer

    event = consumer_created(DomainConsumer(name="Jane", id="00000000-0000-0000-0000-000000000001"))
    body = json.loads(event.to_json())
    assert body["specversion"] == "1.0"
    assert body["type"] == "consumer_created"
    assert body["source"] == "crs/contacts"
    assert body["dataschema"] == pb.DESCRIPTOR.package + ".ConsumerCreated"
    assert body["data"]["consumer"]["name"] == "Jane"
