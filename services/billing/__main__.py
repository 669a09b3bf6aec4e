"""`python -m services.billing`: the ledger's gRPC API and the relay that publishes its outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.billing import grpc_api, privacy, refunds
from services.billing.store import SqlStore
from services.runtime import bus, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.outbox import Relay
from services.runtime.settings import Common, env_float, env_int, grpc_bind

log = logging.getLogger("services.billing")


async def serve(
    stop: asyncio.Event,
    *,
    database_url: str,
    amqp_url: str,
    bind: str,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until `stop` is set, then drain calls in flight and the outbox batch, and close."""
    pool = await open_pool(database_url, schema="billing", max_size=env_int("CRS_BILLING_DB_POOL_SIZE", 10))
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "billing").open()
        relay = Relay(pool, publisher, schema="billing")
        relay_task = asyncio.create_task(relay.run())
        store = SqlStore(pool)
        consumer = bus.Consumer(connection, "billing", [refunds.subscription(store)])
        await consumer.start()
        server = Server([grpc_api.servicer(store), privacy.servicer(pool)], bind)
        port = await server.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await consumer.stop()
        await server.stop(env_float("CRS_BILLING_SHUTDOWN_GRACE", 5.0))
        relay.stop()
        await relay_task
    finally:
        await connection.close()
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    common = Common.from_env()
    await serve(stop, database_url=common.database_url, amqp_url=common.amqp_url, bind=grpc_bind("billing"))


if __name__ == "__main__":
    process.run("billing", main)
