"""`python -m services.fulfillment`: the purchase-history and catalogue gRPC API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.fulfillment import grpc_api
from services.fulfillment.store import SqlStore
from services.runtime import process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env_float, env_int, grpc_bind


async def serve(
    stop: asyncio.Event, *, database_url: str, bind: str, on_ready: Callable[[int], None] | None = None
) -> None:
    """Serve until `stop` is set, then let calls in flight finish, and close."""
    pool = await open_pool(
        database_url, schema="fulfillment", max_size=env_int("CRS_FULFILLMENT_DB_POOL_SIZE", 10)
    )
    try:
        server = Server([grpc_api.servicer(SqlStore(pool))], bind)
        port = await server.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await server.stop(env_float("CRS_FULFILLMENT_SHUTDOWN_GRACE", 5.0))
    finally:
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    await serve(stop, database_url=Common.from_env().database_url, bind=grpc_bind("fulfillment"))


if __name__ == "__main__":
    process.run("fulfillment", main)
