"""Outreach's mail path for integration tests: a real channels process with its development mail sink, the
outreach service run in the test's event loop on an injected clock, and the sink read back.

The sink is a Maildir; `sink_mail` parses whole messages, `recipients` reads only the To header of each
file, for the counts of large sends.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import pathlib
from collections import Counter
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from email.parser import BytesHeaderParser

import psycopg

from services.outreach import __main__ as outreach
from services.runtime.events import Event
from tests.support.mail_sink import all_mail
from tests.support.processes import free_port
from tests.support.wait import async_wait_for

SHIPMENT = pathlib.Path(__file__).parents[1] / "unit" / "outreach" / "fixtures" / "shipment_changed.json"


def shipment(parcel: str, consumer: str, state: str, carrier_status: str) -> Event:
    """Fulfillment's `shipment_changed` for `parcel` reaching `state`, tracked on the demo carrier."""
    data = dict(
        json.loads(SHIPMENT.read_text()),
        fulfillment_id=parcel,
        consumer_id=consumer,
        state=state,
        carrier_status=carrier_status,
        tracking_number=f"CRS{parcel[:8]}",
        tracking_url=f"https://track.demo-carrier.example/parcel/CRS{parcel[:8]}",
    )
    return Event(source="fulfillment", type="shipment_changed", data=data)


def sink_mail(sink: pathlib.Path, run: str) -> list[email.message.EmailMessage]:
    """The mail in the sink to the addresses of one test's `run` (addresses ending `-<run>@...`)."""
    return [m for m in all_mail(sink) if f"-{run}@" in str(m["To"])]


def filed(sink: pathlib.Path) -> int:
    """How many messages the sink holds, from the directory listing alone (cheap enough to poll)."""
    return sum(len(os.listdir(sink / folder)) for folder in ("new", "cur") if (sink / folder).is_dir())


def recipients(sink: pathlib.Path, run: str) -> Counter[str]:
    """How many messages each address of `run` has in the sink, from the To header alone."""
    parser, counts = BytesHeaderParser(), Counter()
    for folder in ("new", "cur"):
        directory = sink / folder
        if not directory.is_dir():
            continue
        for entry in os.scandir(directory):
            with open(entry.path, "rb") as file:
                to = str(parser.parse(file)["To"] or "")
            if f"-{run}@" in to:
                counts[to] += 1
    return counts


def queued_notices(database_url: str, key_prefix: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM channels.notice WHERE delivery = 'queued' AND idempotency_key LIKE %s",
            (f"{key_prefix}%",),
        ).fetchone()[0]


async def delivered(database_url, sink, key_prefix: str, run: str, expected: int, timeout: float = 30):
    """The mail in the sink for `run`, once channels has sent every notice of `key_prefix`."""

    async def settled():
        mail = sink_mail(sink, run)
        return mail if len(mail) >= expected and not queued_notices(database_url, key_prefix) else None

    return await async_wait_for(settled, timeout=timeout, what=f"{expected} notices in the sink")


@asynccontextmanager
async def outreach_running(env: dict[str, str], channels: str, clock: Callable[[], datetime]):
    """`services.outreach`'s serve() in this event loop, as outreach's identity, reading `clock`.

    `env` is applied to os.environ for the run (the sweeps read their seconds from it) and restored after;
    leaving the block stops it as SIGTERM would, so entering again is a restart."""
    saved = dict(os.environ)
    os.environ.update(env, CRS_TLS_IDENTITY="outreach")
    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        outreach.serve(
            stop,
            database_url=env["CRS_DATABASE_URL"],
            amqp_url=env["CRS_AMQP_URL"],
            bind=env.get("CRS_OUTREACH_GRPC") or f"127.0.0.1:{free_port()}",
            channels=channels,
            # Contacts, for the notes survey answers put on cases, where the test runs it.
            contacts=env.get("CRS_CONTACTS_GRPC", "127.0.0.1:9"),
            on_ready=ready.set_result,
            clock=clock,
        )
    )
    try:
        await asyncio.wait({ready, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve() failed to start: its error, here
        assert ready.done(), "outreach did not start serving within 30s"
        yield task
    finally:
        stop.set()
        await task
        os.environ.clear()
        os.environ.update(saved)
