"""A shipment's journey as `shipment_changed` events on fulfillment.events (real worker, relay, RabbitMQ
and PostgreSQL): the worker ships a replacement, a carrier update delivers it, and each change is one
event with the consumer-facing state and the demo carrier's tracking link. The demo carrier is off here,
so only the test moves the parcel."""

from __future__ import annotations

import json
import pathlib

import pika
import pytest
from crs.fulfillment.v1 import fulfillment_pb2

from tests.integration.fulfillment.conftest import OPERATOR, running_stack
from tests.support import infra
from tests.support.wait import wait_for

FIXTURE = pathlib.Path(__file__).parents[2] / "unit" / "outreach" / "fixtures" / "shipment_changed.json"
SKU = "SE-SOAP-1"


class Received:
    """The shipment events published on the vhost, read from a queue bound before anything ships."""

    def __init__(self, amqp_url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare("fulfillment.events", exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, "fulfillment.events", routing_key="shipment_changed")
        self.events: list[dict] = []

    def of(self, fulfillment_id: str) -> list[dict]:
        while True:
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                break
            self.events.append(json.loads(body))
        return [e for e in self.events if e["data"]["fulfillment_id"] == fulfillment_id]


@pytest.fixture(scope="module")
def carried(service_env, directory):
    with (
        infra.migrated_database("crs_shipment_events") as database_url,
        infra.own_vhost("crs-shipment-events") as amqp_url,
    ):
        received = Received(amqp_url)
        env = dict(service_env, CRS_AMQP_URL=amqp_url)
        try:
            with running_stack(
                env, database_url, directory, CRS_FULFILLMENT_DEMO_CARRIER_SECONDS="0"
            ) as stack:
                yield stack, received
        finally:
            received.connection.close()


def test_a_shipment_shipped_then_delivered_publishes_two_events_with_the_tracking_link(carried, directory):
    stack, received = carried
    stack.sql("INSERT INTO fulfillment.product (sku, name) VALUES (%s, 'Bar Soap')", (SKU,))
    stack.call(
        "ImportStock",
        fulfillment_pb2.ImportStockRequest(
            locations=[
                fulfillment_pb2.Location(
                    id="SE-DC", name="SE-DC", kind="distribution_centre", country="US", serves=["US"]
                )
            ],
            rows=[fulfillment_pb2.StockRow(sku=SKU, location_id="SE-DC", on_hand=5)],
        ),
        OPERATOR,
    )
    case = directory.add_case(phones=["+15550109001"], address=("1 Main St", "10001"))
    asked = stack.request(case, "replacement", sku=SKU)
    shipped = stack.wait_state(asked.id, "shipped")
    tracking = shipped.shipment.tracking_number
    first = wait_for(lambda: received.of(asked.id), timeout=20, what="the shipped event")

    update = fulfillment_pb2.UpdateShipmentRequest(
        carrier="demo", tracking_number=tracking, status="delivered"
    )
    stack.call("UpdateShipment", update, OPERATOR)
    stack.call("UpdateShipment", update, OPERATOR)  # the carrier repeats itself: nothing changes
    stack.wait_state(asked.id, "delivered")
    events = wait_for(lambda: len(received.of(asked.id)) >= 2 and received.of(asked.id), timeout=20)

    link = f"https://track.demo-carrier.example/parcel/{tracking}"
    assert [(e["data"]["state"], e["data"]["carrier_status"]) for e in events] == [
        ("shipped", "label_created"),
        ("delivered", "delivered"),
    ]
    assert first[0]["data"] == dict(
        json.loads(FIXTURE.read_text()),
        fulfillment_id=asked.id,
        case_id=case,
        consumer_id=directory.cases[case].consumer_id,
        tracking_number=tracking,
        tracking_url=link,
    )
    assert all(e["data"]["tracking_url"] == link and e["correlationid"] == case for e in events)
    # Once the outbox is empty every event written has been confirmed by the broker: the repeated
    # update wrote none.
    wait_for(lambda: stack.sql("SELECT count(*) FROM fulfillment.outbox") == [(0,)], timeout=20)
    assert len(received.of(asked.id)) == 2
