"""Where to buy's plain parts: postcodes folded to one spelling, requests checked, and the search box."""

from __future__ import annotations

import pytest

from services.fulfillment import where_to_buy
from services.fulfillment.replies import InvalidRequest


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [("US", "10001-1234", "10001"), ("US", " 02108 ", "02108"), ("JP", "272-0001", "2720001"),
     ("GB", "sw1a 1aa", "SW1A1AA"), ("FR", "75004", "75004")],
)  # fmt: skip
def test_a_postcode_has_one_spelling(country, given, stored):
    assert where_to_buy.normalise_postcode(country, given) == stored


def test_a_request_is_checked_and_defaults_to_five_stores_in_the_us():
    assert where_to_buy.validate(
        sku="FD-OAT-500", country="", postcode="10001", limit=0
    ) == where_to_buy.Query("FD-OAT-500", "US", "10001", 5)
    for bad in ({"sku": ""}, {"country": "USA"}, {"postcode": "--"}, {"limit": 51}):
        with pytest.raises(InvalidRequest):
            where_to_buy.validate(**{"sku": "X", "country": "US", "postcode": "10001", "limit": 5, **bad})


def test_the_box_holds_every_point_within_its_radius():
    box = where_to_buy.box(40.75, -74.0, 100.0)
    assert round(box["north"] - 40.75, 3) == 0.899  # 100 km of latitude
    assert round(box["south"], 3) == 39.851
    # A point 100 km due east is inside, at the box's edge or within it.
    assert box["west"] <= -74.0 + 1.186 <= box["east"]
    assert where_to_buy.box(88.5, 0.0, 100.0) is None  # reaches the pole: search everywhere
    assert where_to_buy.box(10.0, 179.5, 100.0) is None  # crosses the date line


def test_distances_are_great_circle():
    assert round(where_to_buy.distance_km(40.7506, -73.9971, 42.3576, -71.0684), 1) == 302.2
    assert where_to_buy.distance_km(48.8575, 2.3514, 48.8575, 2.3514) == 0.0
