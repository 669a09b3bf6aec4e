"""Pops reach the sockets this replica holds: a queue of its own on the bus, bound per extension watched.

Screenpop publishes each pop on `screenpop.events` with the routing key `pop.<extension>`. This replica's
exclusive, auto-delete queue is bound to `pop.<extension>` while it holds a socket for that extension and
unbound when the last one leaves, so any replica can serve any agent. Pops are perishable: taken without
acks; one lost with a dying replica is replaced by the current pop the reconnecting page fetches.

The same queue takes contacts' `follow_up_due`, a follow-up's reminder, and sends it as a `reminder`
message to the sockets of its assignee held here. It is perishable too: the reminder stays in the
assignee's inbox (docs/casework.md, "The inbox"), which is where a reminder missed here is read.
Contacts' `regulatory_deadline_near` goes the same way, as a `regulatory_warning` message, to the sockets
of everyone here who files regulatory reports; the durable record is the case's clock, shown on the case
and in the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiohttp import web
from prometheus_client import Gauge

from services.runtime import permissions
from services.runtime.bus import declare_events_exchange

log = logging.getLogger(__name__)

PUBLISHER = "screenpop"
REMINDERS = ("contacts", "follow_up_due")  # the publisher and the routing key of follow-ups' reminders
DEADLINES = ("contacts", "regulatory_deadline_near")  # a regulatory report falls due soon
SOCKETS = Gauge("crs_console_sockets", "Console and watch sockets held by this replica")


# What a pop carries for the console alone (where telephony holds the call): never sent to a browser.
INTERNAL = ("telephony_control",)


def for_browser(pop: dict[str, Any] | None) -> dict[str, Any] | None:
    if pop is None:
        return None
    return {key: value for key, value in pop.items() if key not in INTERNAL}


def routing_key(extension: str) -> str:
    return f"pop.{extension}"


class Watcher:
    """One socket as the hub sees it: what arrives before its replay is sent is held, then sent after.

    The socket is bound before the current pops are read (so a pop published in between is not lost);
    holding what arrives meanwhile keeps the hello first and sends a pop that was also replayed once.
    """

    def __init__(self, socket: web.WebSocketResponse, username: str = "", role: str = ""):
        self.socket = socket
        self.username = username
        self.role = role
        self._held: list[dict[str, Any]] | None = []

    async def send(self, message: dict[str, Any]) -> None:
        if self._held is not None:
            self._held.append(message)
        elif not self.socket.closed:
            await self.socket.send_str(json.dumps(message, separators=(",", ":")))

    async def release(self, replayed: set[str]) -> None:
        """Send what was held, except pops of the calls just replayed, and send directly from now on."""
        held, self._held = self._held or [], None
        for message in held:
            if message.get("type") == "pop" and message.get("call_id") in replayed:
                continue
            await self.send(message)


class Hub:
    """The sockets this replica holds, by the extensions they watch."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[Watcher]] = defaultdict(set)
        self._people: dict[str, set[Watcher]] = defaultdict(set)

    def join(self, watcher: Watcher) -> None:
        """Hold the socket for its person too, for the reminders addressed to them."""
        self._people[watcher.username].add(watcher)

    def leave(self, watcher: Watcher) -> None:
        held = self._people.get(watcher.username)
        if held is not None:
            held.discard(watcher)
            if not held:
                del self._people[watcher.username]

    async def remind(self, event: dict[str, Any]) -> None:
        """A follow-up's reminder (contacts' FollowUpDue event) to every socket of its assignee here."""
        follow_up = (event.get("data") or {}).get("follow_up") or {}
        watchers = list(self._people.get(follow_up.get("assignee") or "", ()))
        message = {
            "type": "reminder",
            "follow_up_id": follow_up.get("id", ""),
            "case_id": follow_up.get("case_id", ""),
            "text": follow_up.get("text", ""),
            "due_at": follow_up.get("due_at", ""),
        }
        await self._send_all(watchers, message)

    async def warn_of_deadline(self, event: dict[str, Any]) -> None:
        """A regulatory report due soon (contacts' RegulatoryDeadlineNear) to everyone here who files them."""
        data = event.get("data") or {}
        clock = data.get("clock") or {}
        filers = {
            w
            for held in self._people.values()
            for w in held
            if permissions.allowed(w.role, "regulatory.file")
        }
        message = {
            "type": "regulatory_warning",
            "case_id": data.get("contact_id", ""),
            "reference": data.get("reference", ""),
            "authority": clock.get("authority", ""),
            "form": clock.get("form", ""),
            "due_at": clock.get("due_at", ""),
            "state": clock.get("state", ""),
        }
        await self._send_all(list(filers), message)

    @staticmethod
    async def _send_all(watchers: list[Watcher], message: dict[str, Any]) -> None:
        results = await asyncio.gather(*(w.send(message) for w in watchers), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.info("a socket went away while a %s was sent: %s", message["type"], type(result).__name__)

    def add(self, extension: str, watcher: Watcher) -> None:
        self._watchers[extension].add(watcher)
        SOCKETS.inc()

    def remove(self, extension: str, watcher: Watcher) -> None:
        held = self._watchers.get(extension)
        if held and watcher in held:
            held.discard(watcher)
            SOCKETS.dec()
            if not held:
                del self._watchers[extension]

    async def deliver(self, extension: str, message: dict[str, Any]) -> None:
        """Send `message` to every socket watching `extension`; a dead socket does not stop the rest."""
        watchers = list(self._watchers.get(extension, ()))
        results = await asyncio.gather(*(w.send(message) for w in watchers), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.info("a socket went away while a pop was sent: %s", type(result).__name__)

    async def close_all(self) -> None:
        for watchers in list(self._watchers.values()):
            for watcher in list(watchers):
                await watcher.socket.close(code=1001, message=b"server shutting down")


class PopFeed:
    """Binds this replica's queue to the extensions its sockets watch, and hands what arrives to the hub."""

    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection, hub: Hub, *, ttl_ms: int):
        self.connection = connection
        self.hub = hub
        self.ttl_ms = ttl_ms
        self.replica = uuid.uuid4().hex[:12]
        self._exchange = None
        self._queue = None
        self._watchers: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=256)
        self._exchange = await declare_events_exchange(channel, PUBLISHER)
        self._queue = await channel.declare_queue(
            f"console.sockets.{self.replica}",
            exclusive=True,
            auto_delete=True,
            arguments={"x-message-ttl": self.ttl_ms},
        )
        for publisher, key in (REMINDERS, DEADLINES):
            exchange = await declare_events_exchange(channel, publisher)
            await self._queue.bind(exchange.name, routing_key=key)
        await self._queue.consume(self._on_message, no_ack=True)

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
                log.warning("could not unbind an extension from this replica's queue", exc_info=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        extension = (message.routing_key or "").removeprefix("pop.")
        try:
            body = json.loads(message.body)
        except ValueError:
            log.warning("dropping a pop message that is not JSON")
            return
        if message.routing_key == REMINDERS[1] and isinstance(body, dict):
            await self.hub.remind(body)
            return
        if message.routing_key == DEADLINES[1] and isinstance(body, dict):
            await self.hub.warn_of_deadline(body)
            return
        await self.hub.deliver(extension, for_browser(body) if isinstance(body, dict) else body)
