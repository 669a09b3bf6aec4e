"""The mail path for the outreach tests that send for real: a database and vhost of the module's own (so no
other test's campaigns or surveys are swept with them), a channels process over it, and its mail sink."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import pytest_asyncio

from services.outreach.__main__ import serve
from services.runtime import grpcio
from services.runtime.db import open_pool
from tests.support import infra
from tests.support.mail_sink import channels_with_sink


@dataclass(frozen=True)
class MailPath:
    env: dict[str, str]  # outreach's environment: this database and vhost
    channels: str  # channels' gRPC target
    sink: object  # the Maildir channels files its mail in
    database_url: str


@pytest.fixture(scope="module")
def mail_path(service_env, tmp_path_factory):
    with infra.migrated_database("crs_outreach_mail") as url, infra.own_vhost("crs-outreach-mail") as amqp:
        env = dict(service_env, CRS_DATABASE_URL=url, CRS_AMQP_URL=amqp)
        sink = tmp_path_factory.mktemp("outreach-sink")
        with channels_with_sink(env, sink) as (channels, _):
            yield MailPath(env, channels, sink, url)


@pytest_asyncio.fixture(scope="module")
async def outreach_api(database_url, amqp_url):
    """Outreach serving in this process, sending nothing (channels is named, never reached): its gRPC
    channel and a pool on its schema."""
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            stop,
            database_url=database_url,
            amqp_url=amqp_url,
            bind="127.0.0.1:0",
            channels="127.0.0.1:9",
            contacts="127.0.0.1:9",
            on_ready=ready.set_result,
        )
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 30)
    channel = grpcio.channel(f"127.0.0.1:{port}", default_deadline=10)
    pool = await open_pool(database_url, schema="outreach", max_size=2)
    try:
        yield channel, pool
    finally:
        await pool.close()
        await channel.close()
        stop.set()
        await task
