"""What fulfillment tells the world about a parcel: the consumer-facing state of each carrier status, the
tracking link from the carrier's template, and the `shipment_changed` payload outreach reads."""

from __future__ import annotations

import json
import pathlib

import pytest

from services.fulfillment import reply_events, shipments
from services.fulfillment.replies import SHIPMENT_STATUSES, InvalidRequest

FIXTURE = pathlib.Path(__file__).parents[1] / "outreach" / "fixtures" / "shipment_changed.json"
DEMO = "https://track.demo-carrier.example/parcel/{tracking_number}"


@pytest.mark.parametrize(
    ("carrier_status", "state"),
    [
        ("label_created", "shipped"),
        ("in_transit", "shipped"),
        ("out_for_delivery", "out_for_delivery"),
        ("delivered", "delivered"),
        ("returned", "failed"),
        ("lost", "failed"),
    ],
)
def test_each_carrier_status_tells_the_consumer_one_of_four_states(carrier_status, state):
    assert shipments.consumer_state(carrier_status) == state


def test_every_carrier_status_fulfillment_accepts_has_a_consumer_state():
    assert set(shipments.CONSUMER_STATES) == set(SHIPMENT_STATUSES)


def test_an_unknown_carrier_status_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidRequest, match="label_created"):
        shipments.consumer_state("teleported")


def test_the_tracking_link_puts_the_number_in_the_carriers_template_escaped():
    assert shipments.tracking_link(DEMO, "CRS1") == "https://track.demo-carrier.example/parcel/CRS1"
    assert shipments.tracking_link("https://t.example/?n={tracking_number}", "A B/1") == (
        "https://t.example/?n=A%20B%2F1"
    )


def test_a_carrier_without_a_template_gives_no_link():
    assert shipments.tracking_link("", "CRS1") == ""


def test_the_event_carries_exactly_what_outreachs_fixture_reads():
    expected = json.loads(FIXTURE.read_text())
    event = reply_events.shipment_changed(
        fulfillment_id=expected["fulfillment_id"],
        case_id=expected["case_id"],
        consumer_id=expected["consumer_id"],
        kind="replacement",
        carrier_status="label_created",
        carrier="demo",
        tracking_number="CRS123456789012",
        tracking_url_template=DEMO,
    )
    assert (event.source, event.type, event.correlation_id) == (
        "fulfillment",
        "shipment_changed",
        expected["case_id"],
    )
    assert event.data == expected
