"""Knowledge and fulfillment over gRPC, as the service itself (permissions.SERVICE_METHODS names the methods
for channels): the chat assistant's answers, their outcomes and the stores it lists; and, for the
acknowledgement with suggested articles, the code model's reading of a mail and an automated answer."""

from __future__ import annotations

import grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc
from crs.knowledge.v1 import knowledge_pb2, knowledge_pb2_grpc

from services.channels import chat_bot
from services.channels.acknowledge import Answer, Suggested
from services.channels.contacts_client import SERVICE

# A consumer waits on the answer: past this, a person answers instead.
ASK_TIMEOUT = 5.0
STORES_SHOWN = 5
# Where a postcode is not one of the home region's, the country the consumer's language most suggests.
LANGUAGE_COUNTRY = {"fr": "FR", "de": "DE", "es": "ES", "ja": "JP", "it": "IT", "nl": "NL", "pt": "PT"}


class KnowledgeAnswers:
    def __init__(self, channel: grpc.aio.Channel):
        self.knowledge = knowledge_pb2_grpc.KnowledgeStub(channel)

    async def ask(self, question: str, *, language: str) -> chat_bot.Reply:
        found = await self.knowledge.Ask(
            knowledge_pb2.AskRequest(question=question, language=language, channel="chat"),
            metadata=SERVICE,
            timeout=ASK_TIMEOUT,
        )
        source = None
        if found.hits:
            article = found.hits[0].article
            source = chat_bot.Source(
                id=article.id,
                title=article.title,
                language=article.language,
                kind=article.kind,
                product_sku=article.product_sku,
                other_language=found.answered_in_other_language,
            )
        return chat_bot.Reply(
            answer=found.answer,
            source=source,
            hand_off=found.hand_off or not found.answer,
            reason=found.hand_off_reason,
            confidence=found.confidence,
            log_id=found.log_id,
        )

    async def record(self, log_id: int, outcome: str) -> None:
        await self.knowledge.RecordOutcome(
            knowledge_pb2.RecordOutcomeRequest(log_id=log_id, outcome=outcome),
            metadata=SERVICE,
            timeout=ASK_TIMEOUT,
        )


class FulfillmentShops:
    def __init__(self, channel: grpc.aio.Channel, *, country: str):
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentStub(channel)
        self.country = country

    async def where_to_buy(self, sku: str, postcode: str, *, language: str) -> list[chat_bot.Shop]:
        countries = [self.country]
        if LANGUAGE_COUNTRY.get(language, self.country) != self.country:
            countries.append(LANGUAGE_COUNTRY[language])
        for country in countries:
            try:
                found = await self.fulfillment.WhereToBuy(
                    fulfillment_pb2.WhereToBuyRequest(
                        sku=sku, postcode=postcode, country=country, limit=STORES_SHOWN
                    ),
                    metadata=SERVICE,
                    timeout=ASK_TIMEOUT,
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                    raise
                continue
            return [
                chat_bot.Shop(s.location.name, s.location.postcode, s.distance_km, s.available)
                for s in found.stores
            ]
        raise chat_bot.NoPlace(postcode)


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
