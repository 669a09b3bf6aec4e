"""The Consent gRPC service: consent per consumer, purpose and channel, read and changed. No SQL here.

Who changed it comes from the call, never from the request: a person's call (the console, for an agent)
is recorded as source `agent` with their name; a service calling as itself (the console's public
unsubscribe page, an import) names its source and is recorded as `service:<its certificate's name>`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from crs.outreach.v1 import consent_pb2 as pb
from crs.outreach.v1 import consent_pb2_grpc

from services.outreach import unsubscribe
from services.outreach.consent import Change, Entry, InvalidConsent
from services.outreach.consumers_store import ConsumerStore
from services.outreach.survey_links import BadLink
from services.runtime import grpcio, tls
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Consent"].full_name
ERRORS = errors_to_status(
    {InvalidConsent: grpc.StatusCode.INVALID_ARGUMENT, BadLink: grpc.StatusCode.INVALID_ARGUMENT}
)


def _consumer_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidConsent("consumer_id must be a UUID") from None


def _actor(context, requested_source: str) -> tuple[str, str]:
    """(source, changed_by) of a change, from who is calling."""
    person = grpcio.authenticated_principal(context)
    if person is not None:
        return "agent", person.username
    if requested_source == "agent":
        raise InvalidConsent("source agent is for a person's call; a service names its own source")
    return requested_source, f"service:{tls.peer_identity(context) or 'unknown'}"


def entry_to_pb(entry: Entry) -> pb.ConsentEntry:
    message = pb.ConsentEntry(
        purpose=entry.purpose,
        channel=entry.channel,
        granted=entry.granted,
        source=entry.source,
        changed_by=entry.changed_by,
    )
    if entry.changed_at is not None:
        message.changed_at.FromDatetime(entry.changed_at)
    return message


class ConsentApi(consent_pb2_grpc.ConsentServicer):
    def __init__(self, store: ConsumerStore, link_secret: bytes, clock: Callable[[], datetime]):
        self.store, self.secret, self.clock = store, link_secret, clock

    @ERRORS
    async def GetConsent(self, request, context):
        return await self._standing(_consumer_id(request.consumer_id))

    @ERRORS
    async def SetConsent(self, request, context):
        source, changed_by = _actor(context, request.source)
        change = Change.of(
            _consumer_id(request.consumer_id),
            request.purpose,
            request.channel,
            request.granted,
            source=source,
            changed_by=changed_by,
            changed_at=self.clock(),
        )
        await self.store.change(change)
        return await self._standing(change.consumer_id)

    @ERRORS
    async def CheckUnsubscribe(self, request, context):
        return await self._unsubscribe(request.token, withdraw=False)

    @ERRORS
    async def Unsubscribe(self, request, context):
        return await self._unsubscribe(request.token, withdraw=True)

    async def _unsubscribe(self, token: str, *, withdraw: bool) -> pb.UnsubscribeAnswer:
        now = self.clock()
        link = unsubscribe.verify(self.secret, token, now=now)
        if withdraw:
            change = Change.of(
                link.consumer_id,
                link.purpose,
                link.channel,
                False,
                source="unsubscribe_link",
                changed_by="consumer",
                changed_at=now,
            )
            await self.store.change(change)
        reach = (await self.store.of([link.consumer_id])).get(link.consumer_id)
        return pb.UnsubscribeAnswer(
            purpose=link.purpose,
            channel=link.channel,
            language=reach.language if reach else "en",
            withdrawn=withdraw,
        )

    async def _standing(self, consumer_id: str) -> pb.ConsentStanding:
        entries = await self.store.consents(consumer_id)
        return pb.ConsentStanding(consumer_id=consumer_id, entries=[entry_to_pb(e) for e in entries])


def servicer(
    store: ConsumerStore, link_secret: bytes, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Servicer:
    api = ConsentApi(store, link_secret, clock)
    return Servicer(api, consent_pb2_grpc.add_ConsentServicer_to_server, SERVICE_NAME)
