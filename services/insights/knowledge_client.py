"""The knowledge service's embedding model over gRPC, as insights itself (permissions.SERVICE_METHODS)."""

from __future__ import annotations

import grpc
import numpy as np
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.insights.themes import EmbedUnavailable
from services.runtime.principal import Principal

SERVICE = Principal("insights", "service").metadata()
# Knowledge encodes about 50 verbatims a second per core (bench/themes_quality.py): a batch of 200 is ~4 s.
BATCH = 200
BATCH_TIMEOUT = 30.0
MAX_TEXT = 4000


class KnowledgeEmbedder:
    def __init__(self, channel: grpc.aio.Channel):
        self.stub = knowledge_pb2_grpc.KnowledgeStub(channel)

    async def embed(self, texts: list[str]) -> tuple[str, np.ndarray]:
        model, parts = "", []
        try:
            for start in range(0, len(texts), BATCH):
                found = await self.stub.Embed(
                    knowledge_pb2.EmbedRequest(texts=[t[:MAX_TEXT] for t in texts[start : start + BATCH]]),
                    metadata=SERVICE,
                    timeout=BATCH_TIMEOUT,
                )
                model = found.model
                parts.append(np.asarray([v.values for v in found.vectors], dtype=np.float32))
        except grpc.aio.AioRpcError as exc:
            raise EmbedUnavailable(f"knowledge's Embed: {exc.code().name} {exc.details()}") from exc
        return model, np.concatenate(parts)
