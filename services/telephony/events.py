"""Call events to `telephony.events`, published by one thread with publisher confirms.

SIP handling only appends to an in-memory buffer and never waits on the broker. The publisher thread
sends the buffer's head, removes it once the broker confirms, and on any broker failure reconnects and
sends the same head again: events leave in order, and none is dropped while the broker is away (a
consumer may see one twice after a reconnect, and is idempotent on the event id). The buffer is bounded
for new calls: when it is full, `has_room()` says so and the SIP side turns new calls away with 503
rather than ring a call nobody will hear of. Whatever the broker has not confirmed when the process stops
is written to a spool file and sent first by the next run.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pika
import pika.exceptions
from prometheus_client import Counter, Gauge

from services.runtime.events import Event

log = logging.getLogger(__name__)

EXCHANGE_TYPE = "topic"
PUBLISHED = Counter("crs_telephony_events_published_total", "Events confirmed by the broker", ["type"])
PENDING = Gauge("crs_telephony_events_pending", "Events waiting for the broker")
BROKER_UP = Gauge("crs_telephony_broker_connected", "1 while the publisher holds a broker connection")


class EventPublisher:
    """Owns the broker connection; `publish()` is safe from any thread and returns at once."""

    def __init__(
        self,
        *,
        amqp_url: str,
        capacity: int = 10_000,
        spool_path: str | os.PathLike[str] | None = None,
        on_confirmed: Callable[[Event, float], None] | None = None,
    ):
        self.amqp_url = amqp_url
        self.capacity = capacity
        self.spool_path = Path(spool_path) if spool_path else None
        self.on_confirmed = on_confirmed
        self._buffer: collections.deque[Event] = collections.deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._declared: set[str] = set()

    def start(self) -> None:
        """Take back what a previous run spooled, then start the publisher thread."""
        self._buffer.extend(self._read_spool())
        PENDING.set(len(self._buffer))
        self._thread.start()

    def has_room(self) -> bool:
        """False when the buffer holds `capacity` events: new calls should be refused."""
        return len(self._buffer) < self.capacity

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def publish(self, event: Event) -> None:
        """Queue `event` for the broker; never blocks and never drops."""
        with self._wake:
            self._buffer.append(event)
            PENDING.set(len(self._buffer))
            self._wake.notify()

    def forget(self, names_someone: Callable[[Event], bool]) -> int:
        """Drop buffered events `names_someone` picks; returns how many. The head stays: it may be on the
        wire already, and the publisher removes it once the broker confirms."""
        with self._wake:
            head, rest = list(self._buffer)[:1], list(self._buffer)[1:]
            kept = [event for event in rest if not names_someone(event)]
            self._buffer = collections.deque(head + kept)
            PENDING.set(len(self._buffer))
            return len(rest) - len(kept)

    def buffered(self) -> list[Event]:
        with self._wake:
            return list(self._buffer)

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Send what is buffered (for up to `timeout` seconds), then close; True when nothing was left."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._buffer and self._thread.is_alive() and time.monotonic() < deadline:
                self._wake.wait(0.05)
            self._stopping = True
            self._wake.notify_all()
        self._thread.join(max(0.1, deadline - time.monotonic()) + 2)
        with self._wake:
            unsent = list(self._buffer)
        if unsent:
            self._write_spool(unsent)
        return not unsent

    def _read_spool(self) -> list[Event]:
        if self.spool_path is None or not self.spool_path.exists():
            return []
        events = []
        for line in self.spool_path.read_bytes().splitlines():
            try:
                events.append(Event.from_json(line))
            except ValueError:
                log.error("unreadable line in the event spool skipped")
        self.spool_path.unlink()
        log.info("events from the last run queued again", extra={"fields": {"count": len(events)}})
        return events

    def _write_spool(self, events: list[Event]) -> None:
        """Keep events the broker never confirmed for the next run: a late event, never a lost one."""
        if self.spool_path is None:
            log.error(
                "stopped with events the broker never confirmed", extra={"fields": {"lost": len(events)}}
            )
            return
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.spool_path.with_suffix(".partial")
        partial.write_bytes(b"".join(event.to_json() + b"\n" for event in events))
        os.replace(partial, self.spool_path)
        log.warning(
            "events the broker never confirmed spooled for the next run",
            extra={"fields": {"count": len(events), "spool": str(self.spool_path)}},
        )

    def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                self._ensure_connected()
                backoff = 0.2
                self._drain()
            except (pika.exceptions.AMQPError, OSError) as exc:
                self._drop_connection()
                log.warning(
                    "broker unavailable; events wait in the buffer",
                    extra={"fields": {"error": repr(exc), "pending": len(self._buffer)}},
                )
                with self._wake:
                    self._wake.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self._drop_connection()

    def _ensure_connected(self) -> None:
        if self._connection is not None and self._connection.is_open:
            return
        params = pika.URLParameters(self.amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.blocked_connection_timeout = 30
        self._connection = pika.BlockingConnection(params)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()
        self._declared.clear()
        BROKER_UP.set(1)
        log.info("connected to the broker")

    def _drain(self) -> None:
        while not self._stopping or self._buffer:
            with self._wake:
                if not self._buffer:
                    if self._stopping:
                        return
                    self._wake.wait(1.0)
                if not self._buffer:
                    # Idle: let pika answer heartbeats.
                    self._connection.process_data_events(0)
                    continue
                event = self._buffer[0]
            self._send(event)
            with self._wake:
                self._buffer.popleft()
                PENDING.set(len(self._buffer))
                self._wake.notify_all()
            PUBLISHED.labels(event.type).inc()
            if self.on_confirmed is not None:
                self.on_confirmed(event, time.monotonic())

    def _send(self, event: Event) -> None:
        if event.exchange not in self._declared:
            self._channel.exchange_declare(
                exchange=event.exchange, exchange_type=EXCHANGE_TYPE, durable=True, auto_delete=False
            )
            self._declared.add(event.exchange)
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=2,
            message_id=event.id,
            correlation_id=event.correlation_id,
            type=event.type,
            timestamp=int(event.time.timestamp()),
        )
        # With confirms on, basic_publish returns only once the broker has taken the message, and
        # raises when it nacks it.
        self._channel.basic_publish(
            exchange=event.exchange, routing_key=event.type, body=event.to_json(), properties=properties
        )

    def _drop_connection(self) -> None:
        BROKER_UP.set(0)
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                if connection.is_open:
                    connection.close()
            except Exception:  # a dead connection may fail to close in many ways; it is gone either way
                log.debug("closing a broken connection failed", exc_info=True)
