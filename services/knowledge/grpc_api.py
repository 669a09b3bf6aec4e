"""The Knowledge gRPC service: protobuf in, knowledge use cases, protobuf out. No SQL here."""

from __future__ import annotations

import asyncio

import grpc
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.knowledge import convert
from services.knowledge.articles import ArticleNotFound, InvalidArticle, NotAllowed
from services.knowledge.service import Knowledge
from services.runtime.grpcio import Servicer, errors_to_status
from services.runtime.principal import from_metadata

SERVICE_NAME = knowledge_pb2.DESCRIPTOR.services_by_name["Knowledge"].full_name
ERRORS = errors_to_status(
    {
        InvalidArticle: grpc.StatusCode.INVALID_ARGUMENT,
        NotAllowed: grpc.StatusCode.PERMISSION_DENIED,
        ArticleNotFound: grpc.StatusCode.NOT_FOUND,
    }
)
MAX_TEXT = 4000
MAX_EMBED = 2000


async def _principal(context):
    principal = from_metadata(context.invocation_metadata())
    if principal is None:
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED, "this call needs the caller's principal metadata"
        )
    return principal


async def _text(context, value: str, name: str) -> str:
    if not value.strip() or len(value) > MAX_TEXT:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name} must be 1 to {MAX_TEXT} characters")
    return value


class KnowledgeApi(knowledge_pb2_grpc.KnowledgeServicer):
    def __init__(self, knowledge: Knowledge):
        self.knowledge = knowledge

    async def Search(self, request, context):
        query = await _text(context, request.query, "query")
        hits, language = await asyncio.to_thread(
            self.knowledge.search,
            query,
            language=request.language,
            product_sku=request.product_sku,
            limit=request.limit or 5,
        )
        return knowledge_pb2.SearchResponse(hits=[convert.hit_to_pb(h) for h in hits], language=language)

    async def Ask(self, request, context):
        question = await _text(context, request.question, "question")
        answer = await self.knowledge.ask(
            question, language=request.language, channel=request.channel or "api"
        )
        return knowledge_pb2.AskResponse(
            hits=[convert.hit_to_pb(h) for h in answer.hits],
            answer=answer.answer,
            hand_off=answer.hand_off,
            hand_off_reason=answer.reason,
            confidence=answer.confidence,
            log_id=answer.log_id,
            language=answer.language,
            answered_in_other_language=answer.other_language,
            escalate=answer.escalate,
        )

    async def SuggestCodes(self, request, context):
        verbatim = await _text(context, request.verbatim, "verbatim")
        codes = await asyncio.to_thread(self.knowledge.suggest_codes, verbatim, limit=request.limit or 3)
        model = self.knowledge.codes
        return knowledge_pb2.SuggestCodesResponse(
            codes=[knowledge_pb2.CodeSuggestion(code=c, score=s) for c, s in codes],
            model_version=model.version if model else 0,
        )

    @ERRORS
    async def PutArticle(self, request, context):
        who = await _principal(context)
        article = await self.knowledge.put(
            convert.article_from_pb(request), actor=who.username, role=who.role, publish=request.publish
        )
        return convert.article_to_pb(article)

    @ERRORS
    async def Review(self, request, context):
        who = await _principal(context)
        return convert.article_to_pb(
            await self.knowledge.review(request.id, request.language, actor=who.username, role=who.role)
        )

    @ERRORS
    async def Publish(self, request, context):
        who = await _principal(context)
        return convert.article_to_pb(
            await self.knowledge.publish(request.id, request.language, role=who.role)
        )

    async def ListArticles(self, request, context):
        store = self.knowledge.store
        found = await (store.published() if request.published_only else store.all_latest())
        return knowledge_pb2.ListArticlesResponse(articles=[convert.article_to_pb(a) for a in found])

    @ERRORS
    async def SetThreshold(self, request, context):
        who = await _principal(context)
        value = await self.knowledge.set_threshold(
            request.answer_threshold, actor=who.username, role=who.role
        )
        return knowledge_pb2.SetThresholdResponse(answer_threshold=value)

    @ERRORS
    async def RecordOutcome(self, request, context):
        await self.knowledge.record_outcome(request.log_id, request.outcome)
        return knowledge_pb2.RecordOutcomeResponse()

    @ERRORS
    async def AnswerReport(self, request, context):
        report = await self.knowledge.answer_report(request.days)
        return knowledge_pb2.AnswerReportResponse(
            counts=[
                knowledge_pb2.OutcomeCount(
                    channel=c.channel, outcome=c.outcome, hand_off_reason=c.handoff_reason, count=c.count
                )
                for c in report.counts
            ],
            answer_threshold=report.threshold,
            threshold_changed_by=report.changed_by,
            threshold_changed_at=report.changed_at,
            days=report.days,
        )

    async def Embed(self, request, context):
        """Insights' theme clustering: the embedder's passage vectors, encoded off the event loop."""
        embedder = self.knowledge.embedder
        if embedder is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "this knowledge runs without an embedder"
            )
        if not 1 <= len(request.texts) <= MAX_EMBED:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"send 1 to {MAX_EMBED} texts")
        texts = [await _text(context, t, "each text") for t in request.texts]
        vectors = await asyncio.to_thread(embedder.passages, texts)
        return knowledge_pb2.EmbedResponse(
            model=embedder.name, vectors=[knowledge_pb2.Vector(values=v.tolist()) for v in vectors]
        )


def servicer(knowledge: Knowledge) -> Servicer:
    return Servicer(KnowledgeApi(knowledge), knowledge_pb2_grpc.add_KnowledgeServicer_to_server, SERVICE_NAME)
