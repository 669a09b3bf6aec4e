"""The event bus on RabbitMQ for asyncio processes: confirmed publishing and acknowledged consuming.

Layout (the one nameko uses, so nameko workers interoperate):
- each service publishes to its own topic exchange `<service>.events`, durable, routing key = event type;
- each consumer has its own durable quorum queue `<consumer>.<source>.<event_type>`, dead-lettering to
  `<consumer>.dlx` after a few failed deliveries, so a poisoned message is parked, not looped or lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage

from services.runtime import logs
from services.runtime.events import Event, exchange_name
from services.runtime.metrics import EVENTS_CONSUMED, EVENTS_PUBLISHED

log = logging.getLogger(__name__)

DELIVERY_LIMIT = 5
PREFETCH = 64
# A failed message waits before it goes back, longer each delivery (0.5, 1, 2, 4, 8 s): a database or a
# peer that is away for a restart would otherwise see all of a message's deliveries spent within
# milliseconds and the message parked, though nothing is wrong with it. Fifteen seconds of outage pass.
RETRY_DELAY = 0.5
RETRY_DELAY_MAX = 8.0

Handler = Callable[[Event], Awaitable[None]]


async def connect(url: str) -> aio_pika.abc.AbstractRobustConnection:
    """A connection that reconnects by itself and restores its channels, exchanges and consumers."""
    return await aio_pika.connect_robust(url, timeout=10, client_properties={"connection_name": "crs"})


async def declare_events_exchange(channel: aio_pika.abc.AbstractChannel, service: str):
    # These arguments must equal nameko's, or the broker refuses the second declaration.
    return await channel.declare_exchange(
        exchange_name(service), aio_pika.ExchangeType.TOPIC, durable=True, auto_delete=False
    )


def amqp_message(
    body: bytes,
    *,
    event_id: str,
    event_type: str,
    correlation_id: str | None,
    expiration: float | None = None,
) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=event_id,
        correlation_id=correlation_id,
        type=event_type,
        expiration=expiration,
    )


class Publisher:
    """Publishes to one service's exchange; each publish returns once the broker has confirmed it."""

    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection, service: str):
        self.connection = connection
        self.service = service
        self._exchange = None

    async def open(self) -> Publisher:
        channel = await self.connection.channel(publisher_confirms=True)
        self._exchange = await declare_events_exchange(channel, self.service)
        return self

    async def publish_raw(
        self, body: bytes, *, routing_key: str, event_id: str, correlation_id: str | None = None
    ) -> None:
        assert self._exchange is not None, "open() first"
        message = amqp_message(body, event_id=event_id, event_type=routing_key, correlation_id=correlation_id)
        await self._exchange.publish(message, routing_key=routing_key, mandatory=False)
        EVENTS_PUBLISHED.labels(self._exchange.name, routing_key).inc()

    async def publish(self, event: Event) -> None:
        await self.publish_raw(
            event.to_json(), routing_key=event.type, event_id=event.id, correlation_id=event.correlation_id
        )


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    handler: Handler


class Consumer:
    """Consumes events for one service: manual acks, each message handled as its own task.

    A handler that raises gets its message back for another try, after a wait that doubles with each
    delivery, up to DELIVERY_LIMIT deliveries, after which the broker dead-letters it. A body that is not
    an event is dead-lettered at once.
    """

    def __init__(
        self,
        connection,
        consumer: str,
        subscriptions: Iterable[Subscription],
        prefetch: int = PREFETCH,
        retry_delay: float = RETRY_DELAY,
    ):
        self.connection = connection
        self.consumer = consumer
        self.subscriptions = list(subscriptions)
        self.prefetch = prefetch
        self.retry_delay = retry_delay
        self._stopping = asyncio.Event()
        self._channel = None
        self._tags: list[tuple[aio_pika.abc.AbstractQueue, str]] = []
        self._in_flight: set[asyncio.Task] = set()

    def queue_name(self, sub: Subscription) -> str:
        return f"{self.consumer}.{sub.source}.{sub.event_type}"

    async def start(self) -> None:
        self._channel = await self.connection.channel()
        await self._channel.set_qos(prefetch_count=self.prefetch)
        dlx = await self._channel.declare_exchange(
            f"{self.consumer}.dlx", aio_pika.ExchangeType.TOPIC, durable=True
        )
        for sub in self.subscriptions:
            name = self.queue_name(sub)
            dead = await self._channel.declare_queue(
                f"{name}.dead", durable=True, arguments={"x-queue-type": "quorum"}
            )
            await dead.bind(dlx, routing_key=sub.event_type)
            queue = await self._channel.declare_queue(
                name,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-dead-letter-exchange": dlx.name,
                    "x-delivery-limit": DELIVERY_LIMIT,
                },
            )
            exchange = await declare_events_exchange(self._channel, sub.source)
            await queue.bind(exchange, routing_key=sub.event_type)
            tag = await queue.consume(self._dispatcher(name, sub.handler), no_ack=False)
            self._tags.append((queue, tag))

    def _dispatcher(self, queue: str, handler: Handler):
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.create_task(self._handle(queue, handler, message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

        return on_message

    async def _handle(self, queue: str, handler: Handler, message: AbstractIncomingMessage) -> None:
        try:
            event = Event.from_json(message.body)
        except ValueError as exc:
            log.warning("dead-lettering a message on %s that is not an event: %s", queue, exc)
            EVENTS_CONSUMED.labels(queue, "rejected").inc()
            await message.reject(requeue=False)
            return
        with logs.correlated(event.correlation_id):
            try:
                await handler(event)
            except Exception:
                log.exception("handler for %s failed on event %s; it will be redelivered", queue, event.id)
                EVENTS_CONSUMED.labels(queue, "failed").inc()
                await self._back_off(message)
                await message.nack(requeue=True)
                return
            await message.ack()
            EVENTS_CONSUMED.labels(queue, "handled").inc()

    async def _back_off(self, message: AbstractIncomingMessage) -> None:
        """Hold a failed message before it goes back; a stop cuts the wait short."""
        deliveries = int((message.headers or {}).get("x-delivery-count") or 0)
        delay = min(self.retry_delay * 2**deliveries, RETRY_DELAY_MAX)
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            pass

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, then let the ones in hand finish and be acked."""
        self._stopping.set()
        for queue, tag in self._tags:
            try:
                await queue.cancel(tag)
            except aiormq.exceptions.ChannelInvalidStateError:
                # The broker is away (the channel closed under us): nothing is delivered to cancel.
                log.warning(
                    "stopping while the broker is unreachable; %s had no channel to cancel on", queue.name
                )
        self._tags.clear()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=timeout)
        if self._channel is not None:
            await self._channel.close()
