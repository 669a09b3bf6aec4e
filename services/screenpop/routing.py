"""Pops travel on the bus to whichever console replica holds the rung extension's sockets.

The replica that composed a pop publishes it on `screenpop.events` with the routing key
`pop.<extension>` (the contract is written in protos/crs/screenpop/v1/screenpop.proto). Each console
replica binds its own queue to the extensions whose sockets it holds. Pops are perishable: not persistent,
with a per-message TTL, because a pop that arrives after the call ended is useless. The events that create
records (telephony's `call_ended`) are the durable ones.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import aio_pika

from services.runtime.bus import declare_events_exchange

log = logging.getLogger(__name__)

SERVICE = "screenpop"
EXTENSION = re.compile(r"^[0-9A-Za-z_+-]{1,32}$")


def valid_extension(extension: str | None) -> bool:
    return bool(extension) and EXTENSION.match(extension or "") is not None


def routing_key(extension: str) -> str:
    return f"pop.{extension}"


class PopRouter:
    """Publishes pops and call-state messages to extensions."""

    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection, *, ttl_ms: int):
        self.connection = connection
        self.ttl_ms = ttl_ms
        self._exchange = None

    async def start(self) -> None:
        # No confirms: a pop is perishable, and one the broker drops is replaced by the current pop
        # (stored before publishing) that the agent's page fetches when it reconnects. Waiting for a
        # confirm would add a broker round trip to every pop.
        publishing = await self.connection.channel(publisher_confirms=False)
        self._exchange = await declare_events_exchange(publishing, SERVICE)

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
