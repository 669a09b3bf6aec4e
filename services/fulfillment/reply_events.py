"""The events fulfillment publishes about its requests, built from protobuf messages declared once."""

from __future__ import annotations

from crs.common.v1 import money_pb2
from crs.fulfillment.v1 import fulfillment_pb2

from services.fulfillment import shipments
from services.runtime.events import Event

SOURCE = "fulfillment"
ESCALATED = "fulfillment_escalated"
REFUND_CREDIT_REQUESTED = "refund_credit_requested"
SHIPMENT_CHANGED = "shipment_changed"
# Why the outbox write is spelled here as well as in services/runtime/outbox.py: the worker writes with
# blocking psycopg under eventlet, and the runtime's helper is asyncio-only. The statement is the same.
OUTBOX_INSERT = (
    "WITH added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
    " VALUES (%s, %s, %s, %s, %s)) SELECT pg_notify(current_schema() || '_outbox', '')"
)
# The same write as the last part of a statement that makes the change too (`WITH … , <this>`), with
# named parameters from outbox_params: the change and its event in one round trip.
OUTBOX_CTE = (
    "added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
    " VALUES (%(event_id)s, %(exchange)s, %(routing_key)s, %(correlation_id)s, %(body)s))"
    " SELECT pg_notify(current_schema() || '_outbox', '')"
)


def state_event_type(state: str) -> str:
    return f"fulfillment_{state}"


def changed(
    *,
    fulfillment_id: str,
    case_id: str,
    consumer_id: str,
    kind: str,
    state: str,
    previous_state: str,
    stage: str = "",
    actor: str,
    note: str = "",
    event_type: str | None = None,
) -> Event:
    message = fulfillment_pb2.FulfillmentChanged(
        fulfillment_id=fulfillment_id,
        case_id=case_id,
        consumer_id=consumer_id,
        kind=kind,
        state=state,
        previous_state=previous_state,
        stage=stage,
        actor=actor,
        note=note,
    )
    return Event.of(SOURCE, event_type or state_event_type(state), message, correlation_id=case_id)


def shipment_changed(
    *,
    fulfillment_id: str,
    case_id: str,
    consumer_id: str,
    kind: str,
    carrier_status: str,
    carrier: str,
    tracking_number: str,
    tracking_url_template: str,
) -> Event:
    message = fulfillment_pb2.ShipmentChanged(
        fulfillment_id=fulfillment_id,
        case_id=case_id,
        consumer_id=consumer_id,
        kind=kind,
        state=shipments.consumer_state(carrier_status),
        carrier_status=carrier_status,
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=shipments.tracking_link(tracking_url_template, tracking_number),
    )
    return Event.of(SOURCE, SHIPMENT_CHANGED, message, correlation_id=case_id)


def refund_credit_requested(
    *, fulfillment_id: str, consumer_id: str, amount_minor: int, currency: str
) -> Event:
    message = fulfillment_pb2.RefundCreditRequested(
        fulfillment_id=fulfillment_id,
        consumer_id=consumer_id,
        amount=money_pb2.Money(currency=currency, amount_minor=amount_minor),
        reference=refund_reference(fulfillment_id),
        idempotency_key=f"fulfillment-refund:{fulfillment_id}",
    )
    return Event.of(SOURCE, REFUND_CREDIT_REQUESTED, message, correlation_id=fulfillment_id)


def refund_reference(fulfillment_id: str) -> str:
    """The ledger entry's reference, by which the worker recognises billing's confirmation."""
    return f"fulfillment:{fulfillment_id}"


def outbox_row(event: Event) -> tuple:
    return (event.id, event.exchange, event.type, event.correlation_id, event.to_json())


def outbox_params(event: Event) -> dict:
    return dict(
        zip(("event_id", "exchange", "routing_key", "correlation_id", "body"), outbox_row(event), strict=True)
    )
