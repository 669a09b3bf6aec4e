"""Casework and knowledge as the web form sees them, over gRPC, as the service itself (principal
"channels", role "service": permissions.SERVICE_METHODS). A web-form case's timeline shows "channels"."""

from __future__ import annotations

import logging

import grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.channels.web_form import Article, InvalidForm, Suggestions, WebCase
from services.runtime.principal import Principal

log = logging.getLogger(__name__)

SERVICE = Principal("channels", "service").metadata()
SAFETY = "safety"
# Suggestions are worth showing only while the consumer is still typing.
ASK_TIMEOUT = 3.0


class CaseworkWebCases:
    def __init__(self, channel: grpc.aio.Channel):
        self.cases = casework_pb2_grpc.CaseworkStub(channel)

    async def open_web_case(self, case: WebCase) -> int:
        message = casework_pb2.Case(
            channel="web",
            direction="inbound",
            issue_code=case.topic,
            verbatim=case.message,
            language=case.language,
            reporter=casework_pb2.Reporter(**case.reporter),
            product=casework_pb2.Product(**case.product),
        )
        try:
            created = await self.cases.CreateCase(
                casework_pb2.CreateCaseRequest(case=message), metadata=SERVICE
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidForm(exc.details() or "the form was refused") from None
            raise
        return created.reference


class KnowledgeAnswers:
    def __init__(self, channel: grpc.aio.Channel):
        self.knowledge = knowledge_pb2_grpc.KnowledgeStub(channel)

    async def ask(self, question: str, *, language: str) -> Suggestions:
        """No suggestions, rather than no form, when knowledge cannot answer."""
        try:
            reply = await self.knowledge.Ask(
                knowledge_pb2.AskRequest(question=question, language=language, channel="web"),
                metadata=SERVICE,
                timeout=ASK_TIMEOUT,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("knowledge did not answer the web form's question: %s", exc.code().name)
            return Suggestions()
        if reply.hand_off:
            return Suggestions(answer_id=reply.log_id, safety=reply.hand_off_reason == SAFETY)
        return Suggestions(
            answer_id=reply.log_id,
            articles=tuple(
                Article(
                    id=hit.article.id,
                    title=hit.article.title,
                    body=hit.article.body,
                    language=hit.article.language,
                    score=round(hit.score, 4),
                    other_language=hit.other_language,
                )
                for hit in reply.hits
            ),
        )

    async def outcome(self, answer_id: int, outcome: str) -> None:
        """The consumer's case or deflection stands whether or not knowledge hears of it: a failure here is
        logged (channels' own record, web_form_answer, keeps the outcome)."""
        try:
            await self.knowledge.RecordOutcome(
                knowledge_pb2.RecordOutcomeRequest(log_id=answer_id, outcome=outcome), metadata=SERVICE
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "knowledge did not take outcome %s of answer %s: %s", outcome, answer_id, exc.code().name
            )
