"""Where to buy, reorder points and the letter's proof, through the Fulfillment API and PostgreSQL."""

from __future__ import annotations

import io
import uuid

import grpc
import pytest
from crs.fulfillment.v1 import fulfillment_pb2 as pb
from pypdf import PdfReader

from tests.integration.fulfillment.conftest import OPERATOR

SKU = f"WTB-{uuid.uuid4().hex[:6].upper()}"
TAG = SKU[-6:]


def store(name: str, postcode: str, lat: float, lon: float) -> pb.Location:
    return pb.Location(
        id=f"{TAG}-{name}", name=name, kind="store", country="US", region="Northeast", postcode=postcode,
        latitude=lat, longitude=lon,
    )  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def shelves(stack):
    stack.sql("INSERT INTO fulfillment.product (sku, name) VALUES (%s, 'Where-to-buy Oats')", (SKU,))
    # Around Manhattan: the nearest store has none left, one carries none at all; a warehouse is no store.
    stores = [
        (store("Chelsea", "10011", 40.7411, -74.0018), 5),
        (store("Hoboken", "07030", 40.7440, -74.0324), 12),
        (store("Brooklyn", "11201", 40.6943, -73.9903), 3),
        (store("Midtown", "10001", 40.7506, -73.9971), 0),
        (store("Boston", "02108", 42.3576, -71.0684), 40),
    ]
    warehouse = pb.Location(
        id=f"{TAG}-WH", name="Warehouse", kind="warehouse", country="US", region="Northeast",
        postcode="10001", latitude=40.7506, longitude=-73.9971, serves=["US"],
    )  # fmt: skip
    locations = [loc for loc, _ in stores] + [warehouse]
    rows = [pb.StockRow(sku=SKU, location_id=loc.id, on_hand=n) for loc, n in stores]
    rows.append(pb.StockRow(sku=SKU, location_id=warehouse.id, on_hand=500))
    stack.call("ImportStock", pb.ImportStockRequest(locations=locations, rows=rows), OPERATOR)
    places = [
        pb.PostcodePlace(country="US", postcode="10001", latitude=40.7506, longitude=-73.9971),
        pb.PostcodePlace(country="US", postcode="02108", latitude=42.3576, longitude=-71.0684),
    ]
    assert stack.call("ImportPostcodes", pb.ImportPostcodesRequest(places=places), OPERATOR).places == 2


def where(stack, postcode: str, **extra) -> pb.WhereToBuyResponse:
    return stack.call("WhereToBuy", pb.WhereToBuyRequest(sku=SKU, postcode=postcode, **extra))


def test_where_to_buy_lists_the_nearest_stores_with_stock_nearest_first(stack):
    found = where(stack, "10001-1234", limit=3)  # a ZIP+4 is placed at its ZIP
    assert found.postcode == "10001"
    assert [(s.location.name, s.available) for s in found.stores] == [
        ("Chelsea", 5),
        ("Hoboken", 12),
        ("Brooklyn", 3),
    ]
    assert [round(s.distance_km, 1) for s in found.stores] == [
        1.1,
        3.1,
        6.3,
    ]  # by hand: haversine over the coordinates above
    boston = where(stack, "02108", limit=1)
    assert [(s.location.name, s.distance_km) for s in boston.stores] == [("Boston", 0.0)]


def test_where_to_buy_refuses_a_postcode_it_cannot_place_and_a_bad_request(stack):
    with pytest.raises(grpc.RpcError) as unknown:
        where(stack, "99999")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "not in the postcode data" in unknown.value.details()
    with pytest.raises(grpc.RpcError) as bad:
        where(stack, "10001", country="USA")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_an_agent_may_not_import_postcodes(stack):
    places = [pb.PostcodePlace(country="US", postcode="10002", latitude=40.7, longitude=-73.9)]
    with pytest.raises(grpc.RpcError) as refused:
        stack.call("ImportPostcodes", pb.ImportPostcodesRequest(places=places))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_stock_below_its_reorder_point_is_flagged_for_restocking(stack):
    stack.sql(
        "UPDATE fulfillment.stock SET reorder_point = 6 WHERE sku = %s AND location_id LIKE %s",
        (SKU, f"{TAG}-%"),
    )
    stock = stack.call("GetStock", pb.GetStockRequest(sku=SKU))
    flagged = {
        lv.location.name: (lv.available, lv.reorder_point) for lv in stock.levels if lv.below_reorder_point
    }
    assert flagged == {"Chelsea": (5, 6), "Brooklyn": (3, 6), "Midtown": (0, 6)}


def test_a_letters_proof_is_rendered_for_the_case_and_stored_nowhere(stack, directory):
    case = directory.add_case(
        phones=["+33142000077"],
        address=("8 boulevard Haussmann", "75009"),
        country="FR",
        city="Paris",
        name="Marie Curie",
        language="fr-FR",
    )
    proof = stack.call("PreviewLetter", pb.PreviewLetterRequest(case_id=case, template="apology"))
    assert proof.language == "fr"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(proof.pdf)).pages)
    assert "Toutes nos excuses" in text and "75009 PARIS" in text
    assert stack.sql("SELECT count(*) FROM fulfillment.fulfillment WHERE case_id = %s", (case,)) == [(0,)]
    with pytest.raises(grpc.RpcError) as missing:
        stack.call("PreviewLetter", pb.PreviewLetterRequest(case_id=case, template="no-such-letter"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
