"""The bus on quorum queues: a message whose consumer dies mid-way is delivered again; one that fails
every time is parked on the dead-letter queue, not looped and not lost."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import uuid

import aio_pika

from services.runtime import bus
from services.runtime.events import Event
from tests.support.wait import async_wait_for

# A consumer process that takes its message, says so, and then hangs until it is killed.
HANGING_CONSUMER = textwrap.dedent(
    """
    import asyncio, sys
    from services.runtime import bus

    async def main(url, consumer):
        async def hang(event):
            print("handling", event.id, flush=True)
            await asyncio.Event().wait()

        connection = await bus.connect(url)
        await bus.Consumer(connection, consumer, [bus.Subscription("orders", "order_placed", hang)]).start()
        print("consuming", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def publish(amqp_url: str, body: bytes, *, event_id: str) -> None:
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "orders").open()
        await publisher.publish_raw(body, routing_key="order_placed", event_id=event_id)
    finally:
        await connection.close()


async def queue_depth(amqp_url: str, name: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(name, passive=True)
        return declared.declaration_result.message_count
    finally:
        await connection.close()


async def dead_letters(amqp_url: str, name: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        dead = await channel.declare_queue(f"{name}.dead", passive=True)
        parked = []
        while (message := await dead.get(no_ack=True, fail=False)) is not None:
            parked.append(message)
        return parked
    finally:
        await connection.close()


def order_placed() -> Event:
    return Event(source="orders", type="order_placed", data={"order": str(uuid.uuid4())})


async def read_line(process: asyncio.subprocess.Process) -> str:
    return (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()


async def test_a_message_whose_consumer_process_dies_mid_way_is_delivered_again_and_then_acked(amqp_url):
    consumer = f"crash-{uuid.uuid4().hex[:8]}"
    hanging = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HANGING_CONSUMER, amqp_url, consumer,
        stdout=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert await read_line(hanging) == "consuming"
        event = order_placed()
        await publish(amqp_url, event.to_json(), event_id=event.id)
        assert await read_line(hanging) == f"handling {event.id}"
    finally:
        hanging.kill()  # dies holding the message, unacknowledged
        await hanging.wait()

    handled: list[str] = []

    async def handle(received: Event) -> None:
        handled.append(received.id)

    connection = await bus.connect(amqp_url)
    successor = bus.Consumer(connection, consumer, [bus.Subscription("orders", "order_placed", handle)])
    try:
        await successor.start()
        await async_wait_for(lambda: _handled(handled), timeout=20, what="the redelivery")
        queue = f"{consumer}.orders.order_placed"
        await async_wait_for(lambda: _empty(amqp_url, queue), timeout=10, what="the ack to empty the queue")
    finally:
        await successor.stop()
        await connection.close()
    assert handled == [event.id]
    assert await dead_letters(amqp_url, f"{consumer}.orders.order_placed") == []


async def _handled(handled: list[str]) -> list[str]:
    return handled


async def _empty(amqp_url: str, queue: str) -> bool:
    return await queue_depth(amqp_url, queue) == 0


async def test_a_message_that_fails_every_time_is_dead_lettered_after_the_delivery_limit(amqp_url):
    consumer = f"poison-{uuid.uuid4().hex[:8]}"
    queue = f"{consumer}.orders.order_placed"
    attempts: list[str] = []

    async def always_fails(event: Event) -> None:
        attempts.append(event.id)
        raise RuntimeError("this handler cannot take that order")

    connection = await bus.connect(amqp_url)
    # The waits between deliveries are shortened: the limit is what is under test here.
    subscriber = bus.Consumer(
        connection, consumer, [bus.Subscription("orders", "order_placed", always_fails)], retry_delay=0.01
    )
    try:
        await subscriber.start()
        event = order_placed()
        await publish(amqp_url, event.to_json(), event_id=event.id)
        parked = await async_wait_for(
            lambda: dead_letters(amqp_url, queue), timeout=30, what="the message on the dead-letter queue"
        )
        assert await queue_depth(amqp_url, queue) == 0
    finally:
        await subscriber.stop()
        await connection.close()
    # The first delivery and five more (the delivery limit), then parked: tried, not looped.
    assert attempts == [event.id] * 6
    assert [m.message_id for m in parked] == [event.id]
    assert Event.from_json(parked[0].body).data == event.data


async def test_a_body_that_is_not_an_event_is_dead_lettered_at_once(amqp_url):
    consumer = f"garbled-{uuid.uuid4().hex[:8]}"
    queue = f"{consumer}.orders.order_placed"
    handled: list[Event] = []

    async def handle(event: Event) -> None:
        handled.append(event)

    connection = await bus.connect(amqp_url)
    subscriber = bus.Consumer(connection, consumer, [bus.Subscription("orders", "order_placed", handle)])
    try:
        await subscriber.start()
        await publish(amqp_url, b"{not json", event_id="garbled-1")
        parked = await async_wait_for(
            lambda: dead_letters(amqp_url, queue), timeout=20, what="the dead letter"
        )
    finally:
        await subscriber.stop()
        await connection.close()
    assert [m.body for m in parked] == [b"{not json"]
    assert handled == []
