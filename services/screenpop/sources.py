"""The services a pop draws on, reached over long-lived gRPC channels.

This is the only module that knows the other services' protobuf messages: it turns them into the plain
dicts compose.py works with (protobuf's JSON mapping, enums shortened to words).
"""

from __future__ import annotations

from typing import Any

from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc
from crs.insights.v1 import insights_pb2, insights_pb2_grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from services.runtime import grpcio

ENUM_PREFIXES = ("MATCH_KIND_", "CREDIT_STATUS_", "NO_MATCH_REASON_", "ENTRY_KIND_")


def _shorten(value: Any) -> Any:
    """Enum names as words: MATCH_KIND_EXACT -> exact, CREDIT_STATUS_ON_HOLD -> on_hold."""
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, str):
        for prefix in ENUM_PREFIXES:
            if value.startswith(prefix):
                return value.removeprefix(prefix).lower()
    return value


def as_dict(message: Message) -> dict[str, Any]:
    return _shorten(
        json_format.MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
    )


class GrpcSources:
    """Clients of contacts, billing, fulfillment and insights; every call carries a deadline."""

    def __init__(self, *, contacts: str, billing: str, fulfillment: str, insights: str):
        self._channels = [
            grpcio.channel(contacts),
            grpcio.channel(billing),
            grpcio.channel(fulfillment),
            grpcio.channel(insights),
        ]
        contacts_channel, billing_channel, fulfillment_channel, insights_channel = self._channels
        self.insights = insights_pb2_grpc.InsightsStub(insights_channel)
        self.contacts = contacts_pb2_grpc.ContactsStub(contacts_channel)
        self.billing = billing_pb2_grpc.BillingStub(billing_channel)
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentStub(fulfillment_channel)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()

    # -- the pop's sources (compose.Sources) --

    async def match_caller(
        self, *, number: str, region: str, withheld: bool, recent_contacts: int, deadline: float
    ) -> dict[str, Any]:
        request = contacts_pb2.MatchCallerRequest(
            number=number, region=region, withheld=withheld, recent_contacts=recent_contacts
        )
        return as_dict(await self.contacts.MatchCaller(request, timeout=deadline))

    async def account_summary(self, *, consumer_id: str, deadline: float) -> dict[str, Any]:
        request = billing_pb2.GetAccountSummaryRequest(consumer_id=consumer_id)
        return as_dict(await self.billing.GetAccountSummary(request, timeout=deadline))

    async def purchase_history(
        self, *, consumer_id: str, deadline: float, last_orders: int = 5
    ) -> dict[str, Any]:
        request = fulfillment_pb2.GetPurchaseHistoryRequest(
            consumer_id=consumer_id, last_orders=last_orders, top_products=5
        )
        return as_dict(await self.fulfillment.GetPurchaseHistory(request, timeout=deadline))

    async def find_recalls(self, *, skus: list[str], deadline: float) -> list[dict[str, Any]]:
        request = insights_pb2.FindRecallsRequest(
            products=[insights_pb2.ProductMention(sku=sku) for sku in skus]
        )
        answer = await self.insights.FindRecalls(request, timeout=deadline)
        return [as_dict(r) for r in answer.recalls]
