"""Reading an order file: good orders are kept, a bad row is reported by line with why and takes its
whole order with it, and an order's id is the same whenever it is imported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.fulfillment import orders_import

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HEADER = "order_id,placed_at,consumer_id,sku,quantity,location_id\n"
CONSUMER = "6f1c2a9e-4b7d-4e3a-9c2b-0d1e2f3a4b5c"


def parse(body: str) -> orders_import.Parsed:
    return orders_import.parse(HEADER + body, NOW)


def test_rows_of_one_order_become_its_lines_and_a_till_sale_needs_no_consumer():
    parsed = parse(
        f"POS-1,2026-03-01T10:00:00Z,{CONSUMER},OAT,2,ST-SF\n"
        "POS-1,2026-03-01T10:00:00Z," + CONSUMER + ",RICE,1,ST-SF\n"
        "POS-2,2026-03-01T11:00:00,,OAT,5,ST-SF\n"
    )
    assert parsed.rejected == []
    first, second = parsed.orders
    assert [(ln.line, ln.sku, ln.quantity) for ln in first.lines] == [(2, "OAT", 2), (3, "RICE", 1)]
    assert (first.consumer_id, first.channel, first.location_id) == (CONSUMER, "retail", "ST-SF")
    assert second.consumer_id is None and second.placed_at.tzinfo is UTC
    assert first.id == parse(f"POS-1,2026-03-01T10:00:00Z,{CONSUMER},OAT,2,ST-SF\n").orders[0].id
    assert first.id != second.id


def test_a_bad_row_is_reported_by_line_with_why_and_rejects_its_order_while_others_are_kept():
    parsed = parse(
        "POS-1,2026-03-01T10:00:00Z,,OAT,2,ST-SF\n"
        "POS-2,yesterday,,OAT,2,ST-SF\n"
        "POS-3,2026-03-01T10:00:00Z,,OAT,0,ST-SF\n"
        "POS-3,2026-03-01T10:00:00Z,,RICE,1,ST-SF\n"
        "POS-4,2026-03-01T10:00:00Z,not-a-uuid,OAT,1,\n"
        ",2026-03-01T10:00:00Z,,OAT,1,ST-SF\n"
        "POS-5,2030-01-01T00:00:00Z,,OAT,1,ST-SF\n"
    )
    assert [o.source_order_id for o in parsed.orders] == ["POS-1"]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "placed_at" in reasons[3] and "quantity" in reasons[4]
    assert reasons[5] == "order POS-3 has a rejected line (4)"
    assert "consumer_id" in reasons[6] and "order_id" in reasons[7] and "future" in reasons[8]


def test_unknown_products_and_locations_reject_their_orders_by_line():
    parsed = parse("POS-1,2026-03-01T10:00:00Z,,OAT,2,ST-SF\nPOS-2,2026-03-01T10:00:00Z,,GONE,1,ST-XX\n")
    checked = orders_import.reject_unknown(parsed, known_skus={"OAT"}, known_locations={"ST-SF"})
    assert [o.source_order_id for o in checked.orders] == ["POS-1"]
    assert sorted(r.reason for r in checked.rejected) == [
        "location_id: no location 'ST-XX'",
        "sku: no product 'GONE'",
    ]
    assert {r.line for r in checked.rejected} == {3}


def test_a_file_without_the_needed_columns_is_refused_whole():
    with pytest.raises(orders_import.BadFile, match="location_id"):
        orders_import.parse("order_id,placed_at,consumer_id,sku,quantity\n", NOW)
