"""Knowledge over gRPC, as the service itself: the code model's reading of a mail, an automated answer,
and its outcome (for the acknowledgement with suggested articles)."""

from __future__ import annotations

import grpc
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.channels.acknowledge import Answer, Suggested
from services.runtime.principal import Principal

SERVICE = Principal("channels", "service").metadata()
MAX_QUESTION = 4000


class KnowledgeClient:
    def __init__(self, channel: grpc.aio.Channel):
        self.stub = knowledge_pb2_grpc.KnowledgeStub(channel)

    async def top_code(self, text: str, language: str) -> str:
        found = await self.stub.SuggestCodes(
            knowledge_pb2.SuggestCodesRequest(verbatim=text[:MAX_QUESTION], language=language, limit=1),
            metadata=SERVICE,
        )
        return found.codes[0].code if found.codes else ""

    async def ask(self, question: str, *, language: str) -> Answer:
        found = await self.stub.Ask(
            knowledge_pb2.AskRequest(question=question[:MAX_QUESTION], language=language, channel="email"),
            metadata=SERVICE,
        )
        return Answer(
            log_id=found.log_id,
            hand_off=found.hand_off,
            reason=found.hand_off_reason,
            articles=[Suggested(h.article.title, h.article.body, h.score) for h in found.hits],
        )

    async def record_outcome(self, log_id: int, outcome: str) -> None:
        await self.stub.RecordOutcome(
            knowledge_pb2.RecordOutcomeRequest(log_id=log_id, outcome=outcome), metadata=SERVICE
        )
