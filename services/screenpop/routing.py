"""Pops travel on the bus to whichever replica holds the rung extension's sockets.

The replica that composed a pop publishes it on `screenpop.events` with the routing key
`pop.<extension>`. Every replica has one exclusive, auto-delete queue, bound to `pop.<extension>` for
each extension whose socket it holds, and unbound when the last such socket leaves. Pops are perishable:
not persistent, with a per-message TTL, because a pop that arrives after the call ended is useless. The
events that create records (telephony's `call_ended`) are the durable ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from services.runtime.bus import declare_events_exchange

log = logging.getLogger(__name__)

SERVICE = "screenpop"
Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]


def routing_key(extension: str) -> str:
    return f"pop.{extension}"


class PopRouter:
    """Publishes pops to extensions and receives the ones for extensions this replica watches."""

    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection, *, deliver: Deliver, ttl_ms: int):
        self.connection = connection
        self.deliver = deliver
        self.ttl_ms = ttl_ms
        self.replica = uuid.uuid4().hex[:12]
        self._exchange = None
        self._queue = None
        self._watchers: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        # No confirms: a pop is perishable, and one the broker drops is replaced by the current pop
        # (stored before publishing) that the agent's page fetches when it reconnects. Waiting for a
        # confirm would add a broker round trip to every pop.
        publishing = await self.connection.channel(publisher_confirms=False)
        self._exchange = await declare_events_exchange(publishing, SERVICE)
        receiving = await self.connection.channel()
        await receiving.set_qos(prefetch_count=256)
        await declare_events_exchange(receiving, SERVICE)
        self._queue = await receiving.declare_queue(
            f"screenpop.sockets.{self.replica}",
            exclusive=True,
            auto_delete=True,
            arguments={"x-message-ttl": self.ttl_ms},
        )
        # Perishable: taken without acks; a pop lost with a dying replica is replaced by the current pop
        # the reconnecting page fetches.
        await self._queue.consume(self._on_message, no_ack=True)

    async def publish(self, extension: str, message: dict[str, Any]) -> None:
        assert self._exchange is not None, "start() first"
        body = json.dumps(message, separators=(",", ":")).encode()
        await self._exchange.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
                expiration=self.ttl_ms / 1000,
                correlation_id=message.get("call_id"),
                type=message.get("type"),
            ),
            routing_key=routing_key(extension),
        )

    async def watch(self, extension: str) -> None:
        async with self._lock:
            count = self._watchers.get(extension, 0)
            if count == 0:
                await self._queue.bind(self._exchange.name, routing_key=routing_key(extension))
            self._watchers[extension] = count + 1

    async def unwatch(self, extension: str) -> None:
        async with self._lock:
            count = self._watchers.get(extension, 0) - 1
            if count > 0:
                self._watchers[extension] = count
                return
            self._watchers.pop(extension, None)
            try:
                await self._queue.unbind(self._exchange.name, routing_key=routing_key(extension))
            except Exception:
                log.warning("could not unbind extension from this replica's queue", exc_info=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        extension = (message.routing_key or "").removeprefix("pop.")
        try:
            body = json.loads(message.body)
        except ValueError:
            log.warning("dropping a pop message that is not JSON")
            return
        await self.deliver(extension, body)
