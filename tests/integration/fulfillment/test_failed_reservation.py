"""A replacement that gives up after reserving its units gives them back: available again, with the
`released` movement that restock sell-through subtracts from what was reserved."""

from __future__ import annotations

import uuid

from services.fulfillment import workflow_store
from services.runtime.db import connect

SKU, LOCATION = "TEST-RELEASED-KETTLE", "DC-RELEASE"


def stock(conn) -> tuple[int, int]:
    return conn.execute(
        "SELECT on_hand, reserved FROM stock WHERE sku = %s AND location_id = %s", (SKU, LOCATION)
    ).fetchone()


def test_a_replacement_that_fails_after_reserving_releases_its_units_once(database_url):
    fid = str(uuid.uuid4())
    with connect(database_url, schema="fulfillment", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO product (sku, name) VALUES (%s, 'Test Kettle') ON CONFLICT DO NOTHING", (SKU,)
        )
        conn.execute(
            "INSERT INTO location (id, name, kind, country, region, serves)"
            " VALUES (%s, 'Release DC', 'distribution_centre', 'US', 'Midwest', '{US}') ON CONFLICT DO NOTHING",
            (LOCATION,),
        )
        conn.execute("INSERT INTO stock (sku, location_id, on_hand) VALUES (%s, %s, 5)", (SKU, LOCATION))
        conn.execute(
            "INSERT INTO fulfillment (id, case_id, consumer_id, kind, state, sku, quantity, country,"
            " requested_by, requested_role) VALUES (%s, %s, %s, 'replacement', 'approved', %s, 2, 'US',"
            " 'ada', 'agent')",
            (fid, str(uuid.uuid4()), str(uuid.uuid4()), SKU),
        )
        step, _more = workflow_store.advance(conn, fid, workflow_store.Settings(), actor="worker")
        assert step.name == "reserve" and stock(conn) == (5, 2)

        # The next step raises every time (say the warehouse system is down) until the worker gives up.
        for _ in range(workflow_store.MAX_ATTEMPTS + 2):
            workflow_store.record_failure(conn, fid, "warehouse system unavailable", actor="worker")

        (state,) = conn.execute("SELECT state FROM fulfillment WHERE id = %s", (fid,)).fetchone()
        assert state == "failed"
        assert stock(conn) == (5, 0)
        movements = conn.execute(
            "SELECT kind, quantity FROM stock_movement WHERE fulfillment_id = %s ORDER BY id", (fid,)
        ).fetchall()
        assert movements == [("reserved", 2), ("released", -2)]
        assert conn.execute("SELECT state FROM reservation WHERE fulfillment_id = %s", (fid,)).fetchall() == [
            ("released",)
        ]
