"""The Contacts gRPC API: protobuf in, domain calls, protobuf out. No SQL here."""

from __future__ import annotations

import uuid

import grpc
from crs.contacts.v1 import contacts_pb2 as pb
from crs.contacts.v1 import contacts_pb2_grpc

from services.contacts.consumers import convert, directory, matching
from services.contacts.consumers.store import ContactsStore
from services.contacts.consumers.validation import ValidationError
from services.contacts.interfaces import ContactHistory
from services.runtime.grpcio import errors_to_status
from services.runtime.principal import from_metadata

# Domain errors as the status codes a client can act on.
_errors_to_status = errors_to_status(
    {
        ValidationError: grpc.StatusCode.INVALID_ARGUMENT,
        directory.NotFound: grpc.StatusCode.NOT_FOUND,
        directory.Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    }
)


def _consumer_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(f"id: {value[:60]!r} is not a consumer id") from None


class ContactsServicer(contacts_pb2_grpc.ContactsServicer):
    def __init__(
        self,
        *,
        store: ContactsStore,
        history: ContactHistory,
        home_region: str,
    ):
        self.store = store
        self.history = history
        self.home_region = home_region

    def _pb(self, consumer) -> pb.Consumer:
        return convert.consumer_to_pb(consumer, home_region=self.home_region)

    @_errors_to_status
    async def CreateConsumer(self, request: pb.CreateConsumerRequest, context) -> pb.Consumer:
        consumer = await directory.create_consumer(
            store=self.store,
            consumer=convert.consumer_from_pb(request.consumer),
            region=request.region or self.home_region,
        )
        return self._pb(consumer)

    @_errors_to_status
    async def GetConsumer(self, request: pb.GetConsumerRequest, context) -> pb.Consumer:
        consumer = await directory.get_consumer(store=self.store, consumer_id=_consumer_id(request.id))
        return self._pb(consumer)

    @_errors_to_status
    async def UpdateConsumer(self, request: pb.UpdateConsumerRequest, context) -> pb.Consumer:
        consumer = await directory.update_consumer(
            store=self.store,
            consumer_id=_consumer_id(request.consumer.id),
            changes=convert.consumer_from_pb(request.consumer),
            fields=set(request.update_mask.paths),
            region=request.region or self.home_region,
        )
        return self._pb(consumer)

    @_errors_to_status
    async def ListConsumers(self, request: pb.ListConsumersRequest, context) -> pb.ListConsumersResponse:
        consumers, token = await directory.list_consumers(
            store=self.store,
            page_size=request.page_size,
            page_token=request.page_token,
            name_prefix=request.name_prefix or None,
            role=getattr(from_metadata(context.invocation_metadata()), "role", None),
        )
        return pb.ListConsumersResponse(consumers=[self._pb(c) for c in consumers], next_page_token=token)

    @_errors_to_status
    async def MatchCaller(self, request: pb.MatchCallerRequest, context) -> pb.MatchCallerResponse:
        result = await matching.match_caller(
            store=self.store,
            history=self.history,
            number=request.number,
            region=request.region or self.home_region,
            withheld=request.withheld,
            recent_contacts=request.recent_contacts,
            max_candidates=request.max_candidates,
        )
        return convert.match_to_pb(result)

    @_errors_to_status
    async def ListRecentContacts(self, request: pb.ListRecentContactsRequest, context):
        consumer_id = _consumer_id(request.consumer_id)
        limit = max(1, min(request.limit or 10, 100))
        found = await self.history.recent_contacts(consumer_ids=[consumer_id], limit=limit)
        return pb.ListRecentContactsResponse(
            contacts=[convert.contact_to_pb(c) for c in found.get(consumer_id, [])]
        )

    @_errors_to_status
    async def MatchEmail(self, request: pb.MatchEmailRequest, context) -> pb.MatchEmailResponse:
        address = request.address.strip()
        if not address or len(address) > 254 or "@" not in address:
            raise ValidationError("address: an email address of at most 254 characters")
        found = await self.store.consumers_with_email(address)
        return pb.MatchEmailResponse(consumers=[self._pb(c) for c in found])
