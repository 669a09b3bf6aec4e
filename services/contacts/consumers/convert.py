"""Translation between the contacts domain and its protobuf contract (API messages and events)."""

from __future__ import annotations

from datetime import UTC, datetime

from crs.contacts.v1 import contacts_pb2 as pb
from crs.contacts.v1 import events_pb2 as events_pb
from google.protobuf.timestamp_pb2 import Timestamp

from services.contacts.consumers.addresses import format_address
from services.contacts.consumers.model import (
    Candidate,
    Consumer,
    ContactSummary,
    Email,
    MatchKind,
    MatchResult,
    NoMatchReason,
    Phone,
    PostalAddress,
)
from services.runtime.events import Event

SOURCE = "contacts"
MATCH_KINDS = {
    MatchKind.EXACT: pb.MATCH_KIND_EXACT,
    MatchKind.NATIONAL: pb.MATCH_KIND_NATIONAL,
    MatchKind.SUFFIX: pb.MATCH_KIND_SUFFIX,
}
NO_MATCH = {
    NoMatchReason.WITHHELD: pb.NO_MATCH_REASON_WITHHELD,
    NoMatchReason.UNPARSEABLE: pb.NO_MATCH_REASON_UNPARSEABLE,
    NoMatchReason.NOT_FOUND: pb.NO_MATCH_REASON_NOT_FOUND,
}


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def from_timestamp(message, field: str) -> datetime | None:
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def consumer_to_pb(consumer: Consumer, *, home_region: str | None = None) -> pb.Consumer:
    return pb.Consumer(
        id=consumer.id or "",
        name=consumer.name,
        language=consumer.language,
        phones=[
            pb.PhoneNumber(
                id=p.id or "",
                number=p.number,
                type=p.type,
                valid_from=timestamp(p.valid_from),
                valid_to=timestamp(p.valid_to),
            )
            for p in consumer.phones
        ],
        emails=[pb.Email(address=e.address, type=e.type) for e in consumer.emails],
        addresses=[
            pb.PostalAddress(
                region_code=a.region_code,
                address_lines=a.address_lines,
                locality=a.locality,
                administrative_area=a.administrative_area,
                postal_code=a.postal_code,
                sorting_code=a.sorting_code,
                type=a.type,
                formatted=format_address(a, home_region=home_region),
            )
            for a in consumer.addresses
        ],
        created_at=timestamp(consumer.created_at),
        updated_at=timestamp(consumer.updated_at),
        last_contact_at=timestamp(consumer.last_contact_at),
    )


def consumer_from_pb(message: pb.Consumer) -> Consumer:
    return Consumer(
        id=message.id or None,
        name=message.name,
        language=message.language or "en",
        phones=[
            Phone(
                number=p.number,
                type=p.type or "mobile",
                valid_from=from_timestamp(p, "valid_from"),
                valid_to=from_timestamp(p, "valid_to"),
            )
            for p in message.phones
        ],
        emails=[Email(address=e.address, type=e.type or "personal") for e in message.emails],
        addresses=[
            PostalAddress(
                region_code=a.region_code,
                address_lines=list(a.address_lines),
                locality=a.locality,
                administrative_area=a.administrative_area,
                postal_code=a.postal_code,
                sorting_code=a.sorting_code,
                type=a.type or "home",
            )
            for a in message.addresses
        ],
    )


def contact_to_pb(contact: ContactSummary) -> pb.ContactSummary:
    return pb.ContactSummary(
        id=contact.id,
        consumer_id=contact.consumer_id or "",
        channel=contact.channel,
        direction=contact.direction,
        summary=contact.summary,
        status=contact.status,
        occurred_at=timestamp(contact.occurred_at),
        call_id=contact.call_id or "",
        duration_seconds=contact.duration_seconds or 0.0,
        has_recording=bool(contact.recording_key),
    )


def candidate_to_pb(candidate: Candidate) -> pb.Candidate:
    return pb.Candidate(
        consumer_id=candidate.consumer_id,
        name=candidate.name,
        match=MATCH_KINDS[candidate.kind],
        matched_number=candidate.matched_number,
        current=candidate.current,
        last_contact_at=timestamp(candidate.last_contact_at),
        language=candidate.language,
        recent_contacts=[contact_to_pb(c) for c in candidate.recent_contacts],
    )


def match_to_pb(result: MatchResult) -> pb.MatchCallerResponse:
    return pb.MatchCallerResponse(
        number_e164=result.number_e164 or "",
        withheld=result.withheld,
        candidates=[candidate_to_pb(c) for c in result.candidates],
        no_match_reason=NO_MATCH.get(result.no_match_reason, pb.NO_MATCH_REASON_UNSPECIFIED),
        explanation=result.explanation,
    )


def consumer_created(consumer: Consumer) -> Event:
    return Event.of(SOURCE, "consumer_created", events_pb.ConsumerCreated(consumer=consumer_to_pb(consumer)))


def consumer_updated(consumer: Consumer, changed: list[str]) -> Event:
    message = events_pb.ConsumerUpdated(consumer=consumer_to_pb(consumer), changed_fields=changed)
    return Event.of(SOURCE, "consumer_updated", message)
