"""Restock prompts through the fulfillment process, on a database and a vhost of their own (the figures
count every sale and miss in the database): the process evaluates every 0.3 s, and what it raises is read
back through ListRestockPrompts and from the events it publishes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pika
import psycopg
import pytest
from crs.fulfillment.v1 import fulfillment_pb2 as pb
from crs.fulfillment.v1 import fulfillment_pb2_grpc

from services.runtime.events import Event
from services.runtime.grpcio import blocking_channel
from services.runtime.principal import Principal
from tests.integration.fulfillment.conftest import AGENT, OPERATOR, SUPERVISOR
from tests.support import infra
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for

PLANNER = SUPERVISOR
ANALYST = Principal("quinn", "analyst")
STEADY, PUSHED, UNFOUND, ASKED = "RS-STEADY", "RS-PUSHED", "RS-UNFOUND", "RS-ASKED"


class Restock:
    def __init__(
        self, env: dict, database_url: str, channel: pika.adapters.blocking_connection.BlockingChannel
    ):
        self.env = env
        self.database_url = database_url
        self.stub = fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(env["CRS_FULFILLMENT_GRPC"]))
        self.channel = channel
        self.queue = channel.queue_declare("", exclusive=True).method.queue
        for key in ("restock_prompt_raised", "restock_prompt_cleared", "order_placed"):
            channel.queue_bind(self.queue, "fulfillment.events", routing_key=key)
        self.events: list[tuple[str, dict]] = []

    def call(self, method: str, request, principal: Principal = PLANNER):
        return getattr(self.stub, method)(request, metadata=principal.metadata(), timeout=10)

    def sql(self, query: str, params=()):
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("SET search_path = fulfillment")
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def prompts(self, sku: str = "") -> list[pb.RestockPrompt]:
        return list(self.call("ListRestockPrompts", pb.ListRestockPromptsRequest(sku=sku)).prompts)

    def received(self, routing_key: str, sku: str) -> list[dict]:
        """The events published so far with this key for this product."""
        while True:
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                break
            self.events.append((method.routing_key, json.loads(body)["data"]))
        return [data for key, data in self.events if key == routing_key and data["sku"] == sku]

    def publish_case(self, event_type: str, case: dict) -> None:
        event = Event(source="contacts", type=event_type, data={"case": case})
        self.channel.basic_publish("contacts.events", event_type, event.to_json())

    def sell(self, sku: str, location_id: str, units: int, *, days_ago: float) -> None:
        order = str(uuid.uuid4())
        placed = datetime.now(UTC) - timedelta(days=days_ago)
        self.sql(
            "INSERT INTO orders (id, consumer_id, placed_at, channel, status, currency, total_minor, location_id)"
            " VALUES (%s, %s, %s, 'retail', 'delivered', 'USD', 0, %s)",
            (order, str(uuid.uuid4()), placed, location_id),
        )
        self.sql(
            "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor) VALUES (%s, 1, %s, %s, 0)",
            (order, sku, units),
        )


def location(lid: str, kind: str, region: str, postcode: str, lat: float, lon: float) -> pb.Location:
    return pb.Location(id=lid, name=lid, kind=kind, country="US", region=region, postcode=postcode,
                       latitude=lat, longitude=lon)  # fmt: skip


@pytest.fixture(scope="module")
def restock(service_env, directory):
    with infra.migrated_database("crs_restock") as database_url, infra.own_vhost("crs-restock") as amqp_url:
        port = free_port()
        env = dict(
            service_env,
            CRS_DATABASE_URL=database_url,
            CRS_AMQP_URL=amqp_url,
            CRS_FULFILLMENT_GRPC=f"127.0.0.1:{port}",
            CRS_CONTACTS_GRPC=directory.target,
            CRS_FULFILLMENT_RESTOCK_SECONDS="0.3",
        )
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        for exchange in ("fulfillment.events", "contacts.events"):
            channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        api = ServiceProcess("services.fulfillment", env).start(wait_port=port)
        try:
            found = Restock(env, database_url, channel)
            found.sql(
                "INSERT INTO product (sku, name) VALUES (%s, 'Steady Oats'), (%s, 'Pushed Oats'),"
                " (%s, 'Unfound Oats'), (%s, 'Asked-for Oats')",
                (STEADY, PUSHED, UNFOUND, ASKED),
            )
            locations = [
                location("RS-SF", "store", "West", "94110", 37.7486, -122.4184),
                location("RS-NYC", "store", "Northeast", "10001", 40.7506, -73.9971),
                location("RS-DC", "distribution_centre", "Northeast", "18109", 40.6023, -75.4714),
            ]
            rows = [pb.StockRow(sku=sku, location_id="RS-SF", on_hand=100) for sku in (STEADY, PUSHED)]
            rows += [
                pb.StockRow(sku=UNFOUND, location_id="RS-DC", on_hand=400),  # in the region, on no shelf
                pb.StockRow(sku=UNFOUND, location_id="RS-SF", on_hand=30),  # on a shelf, far away
            ]
            found.call("ImportStock", pb.ImportStockRequest(locations=locations, rows=rows), OPERATOR)
            places = [
                pb.PostcodePlace(country="US", postcode="10001", latitude=40.7506, longitude=-73.9971),
                pb.PostcodePlace(country="US", postcode="94110", latitude=37.7486, longitude=-122.4184),
            ]
            found.call("ImportPostcodes", pb.ImportPostcodesRequest(places=places), OPERATOR)
            yield found
        finally:
            assert api.stop() == 0, api.output()
            connection.close()


def test_a_prompt_fires_when_a_regions_sell_through_is_pushed_up_and_not_on_steady_sales(restock):
    # Both sell 2 a day at the San Francisco store for the last two weeks: 100 on hand is 50 days.
    for sku in (STEADY, PUSHED):
        for day in range(14):
            restock.sell(sku, "RS-SF", 2, days_ago=day + 0.5)
    # Then one of them sells 250 in the last day: (28 + 250) / 14 is 19.9 a day, 5 days of cover.
    restock.sell(PUSHED, "RS-SF", 250, days_ago=0.1)

    [prompt] = wait_for(lambda: restock.prompts(PUSHED), timeout=20, what="a prompt for the pushed product")
    assert (prompt.country, prompt.region, list(prompt.reasons)) == ("US", "West", ["low_cover"])
    assert (prompt.units_sold, prompt.available, prompt.window_days) == (278, 100, 14)
    assert prompt.velocity_per_day == pytest.approx(19.857, abs=0.001)
    assert prompt.days_of_cover == pytest.approx(5.04, abs=0.01)
    assert prompt.cover_threshold_days == 7
    # The steady product was measured in the same rounds and raised nothing.
    assert restock.prompts(STEADY) == []
    [event] = wait_for(lambda: restock.received("restock_prompt_raised", PUSHED), timeout=10, what="event")
    assert (event["id"], event["units_sold"], event["days_of_cover"]) == (prompt.id, 278, 5.04)
    assert restock.received("restock_prompt_raised", STEADY) == []


def test_a_prompt_is_not_raised_twice_while_it_holds_and_is_cleared_when_restocked(restock):
    [prompt] = wait_for(lambda: restock.prompts(PUSHED), timeout=20, what="the pushed product's prompt")
    first_seen = prompt.evaluated_at.ToDatetime()
    # Several evaluations later it is the same prompt, with fresh figures, and still one event.
    wait_for(
        lambda: restock.prompts(PUSHED)[0].evaluated_at.ToDatetime() > first_seen + timedelta(seconds=1),
        timeout=20,
        what="more evaluations",
    )
    [again] = restock.prompts(PUSHED)
    assert (again.id, again.raised_at) == (prompt.id, prompt.raised_at)
    assert len(restock.received("restock_prompt_raised", PUSHED)) == 1

    # A delivery of 900 more gives 50 days of cover: the prompt clears, once.
    restock.call(
        "ImportStock",
        pb.ImportStockRequest(rows=[pb.StockRow(sku=PUSHED, location_id="RS-SF", on_hand=1000)]),
        OPERATOR,
    )
    wait_for(lambda: restock.prompts(PUSHED) == [], timeout=20, what="the prompt to clear")
    [cleared] = wait_for(
        lambda: restock.received("restock_prompt_cleared", PUSHED), timeout=10, what="the cleared event"
    )
    assert (cleared["id"], cleared["available"]) == (prompt.id, 1000)
    assert "cleared_at" in cleared


def test_where_to_buy_misses_climbing_fire_a_prompt_for_the_consumers_region(restock):
    def where(postcode: str) -> pb.WhereToBuyResponse:
        request = pb.WhereToBuyRequest(sku=UNFOUND, postcode=postcode, country="US")
        return restock.call("WhereToBuy", request, AGENT)

    # In San Francisco the shelf has it: no miss.
    assert [s.location.id for s in where("94110").stores] == ["RS-SF"]
    # In Manhattan the nearest shelf with it is across the country: each lookup is a Northeast miss.
    for _ in range(2):
        assert [round(s.distance_km) for s in where("10001").stores] == [4130]
    assert restock.prompts(UNFOUND) == []  # two are not yet a climb (the policy's minimum is three)
    where("10001")
    [prompt] = wait_for(lambda: restock.prompts(UNFOUND), timeout=20, what="a prompt from misses")
    assert (prompt.region, list(prompt.reasons), prompt.misses, prompt.usual_misses) == (
        "Northeast",
        ["misses_climbing"],
        3,
        0.0,
    )
    # The region sells none of it: there is no cover to report, and the stock is the distribution centre's.
    assert (prompt.units_sold, prompt.available, prompt.HasField("days_of_cover")) == (0, 400, False)
    assert (
        restock.sql("SELECT region, source FROM where_to_buy_miss WHERE sku = %s", (UNFOUND,))
        == [("Northeast", "where_to_buy")] * 3
    )


def test_a_planner_sets_the_thresholds_and_an_agent_may_not(restock):
    policy = restock.call("GetRestockPolicy", pb.GetRestockPolicyRequest(), ANALYST)
    assert (policy.cover_days, policy.window_days, policy.min_misses) == (7, 14, 3)
    with pytest.raises(grpc.RpcError) as refused:
        restock.call("SetRestockPolicy", pb.RestockPolicy(cover_days=30), AGENT)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        restock.call("SetRestockPolicy", pb.RestockPolicy(miss_factor=0.5), PLANNER)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    try:
        # 60 days of cover: the steady product's 50 days are now short.
        changed = restock.call("SetRestockPolicy", pb.RestockPolicy(cover_days=60), PLANNER)
        assert (changed.cover_days, changed.window_days, changed.updated_by) == (60, 14, "sam")
        [prompt] = wait_for(lambda: restock.prompts(STEADY), timeout=20, what="a prompt at the new threshold")
        assert (list(prompt.reasons), prompt.cover_threshold_days) == (["low_cover"], 60)
    finally:
        restock.call("SetRestockPolicy", pb.RestockPolicy(cover_days=7), PLANNER)


def test_contacts_coded_cant_find_it_count_once_each_as_misses_in_the_consumers_region(restock, directory):
    in_manhattan = [directory.add_case(address=("1 Main St", "10001"), country="US") for _ in range(3)]
    elsewhere = directory.add_case(address=("1 Rue", "75004"), country="FR")  # a postcode not in the data

    def case(case_id: str, issue_code: str = "question.where_to_buy") -> dict:
        consumer = directory.cases[case_id].consumer_id
        return {"id": case_id, "consumer_id": consumer, "product": {"sku": ASKED}, "issue_code": issue_code}

    restock.publish_case("contact_created", case(in_manhattan[0]))
    restock.publish_case("contact_created", case(in_manhattan[1], "complaint.quality"))  # not a miss
    restock.publish_case("contact_created", case(elsewhere))
    # The same case delivered again, and changed, is still one miss.
    for _ in range(2):
        restock.publish_case("contact_updated", case(in_manhattan[0]))
    restock.publish_case("contact_updated", case(in_manhattan[1]))  # recoded as "can't find it"
    restock.publish_case("contact_created", case(in_manhattan[2], "question.where_to_buy.not_in_store"))

    [prompt] = wait_for(lambda: restock.prompts(ASKED), timeout=20, what="a prompt from contacts")
    assert (prompt.region, list(prompt.reasons), prompt.misses) == ("Northeast", ["misses_climbing"], 3)
    counted = restock.sql(
        "SELECT source_id, region FROM where_to_buy_miss WHERE sku = %s ORDER BY 1", (ASKED,)
    )
    assert counted == sorted((case_id, "Northeast") for case_id in in_manhattan)


BOTH_REGIONS, IMPORTED = "RS-BOTH", "RS-IMPORTED"


def add_product(restock: Restock, sku: str, stock: dict[str, int]) -> None:
    restock.sql("INSERT INTO product (sku, name) VALUES (%s, %s)", (sku, sku))
    rows = [pb.StockRow(sku=sku, location_id=loc, on_hand=n) for loc, n in stock.items()]
    restock.call("ImportStock", pb.ImportStockRequest(rows=rows), OPERATOR)


def test_a_region_with_a_tighter_threshold_is_prompted_while_another_with_the_same_figures_is_not(restock):
    # The same in the West and the Northeast: 2 a day for two weeks against 100, 50 days of cover.
    add_product(restock, BOTH_REGIONS, {"RS-SF": 100, "RS-NYC": 100})
    for store in ("RS-SF", "RS-NYC"):
        for day in range(14):
            restock.sell(BOTH_REGIONS, store, 2, days_ago=day + 0.5)
    wanted = pb.CoverThreshold(sku=BOTH_REGIONS, country="US", region="West", cover_days=60)
    with pytest.raises(grpc.RpcError) as refused:
        restock.call("SetCoverThreshold", wanted, AGENT)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as unknown:
        restock.call("SetCoverThreshold", pb.CoverThreshold(country="US", region="Atlantis", cover_days=9))
    assert (unknown.value.code(), unknown.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "region: no location in US/Atlantis",
    )
    try:
        policy = restock.call("SetCoverThreshold", wanted)
        # Re-evaluated within the call: the West is prompted as it returns, the Northeast is not.
        [prompt] = restock.prompts(BOTH_REGIONS)
        assert (prompt.region, list(prompt.reasons), prompt.cover_threshold_days) == (
            "West",
            ["low_cover"],
            60,
        )
        assert prompt.days_of_cover == pytest.approx(50)
        assert [(t.sku, t.region, t.cover_days) for t in policy.cover_thresholds] == [
            (BOTH_REGIONS, "West", 60)
        ]
        change = policy.changes[0]
        assert (change.sku, change.region, change.changed_by) == (BOTH_REGIONS, "West", "sam")
        assert (change.before_json, json.loads(change.after_json)) == ("", {"cover_days": 60})
    finally:
        policy = restock.call("RemoveCoverThreshold", wanted)
    assert list(policy.cover_thresholds) == []
    assert (json.loads(policy.changes[0].before_json), policy.changes[0].after_json) == (
        {"cover_days": 60},
        "",
    )
    assert restock.prompts(BOTH_REGIONS) == []


def orders_csv(rows: list[tuple]) -> str:
    lines = ["order_id,placed_at,consumer_id,sku,quantity,location_id"]
    lines += [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def test_an_imported_surge_raises_a_prompt_once_and_importing_it_again_changes_nothing(restock):
    add_product(restock, IMPORTED, {"RS-SF": 100})
    now = datetime.now(UTC)
    # Steady sales before the count (already out of the counted stock), then a surge after it, which
    # takes its units from the store's stock.
    rows = [
        (f"TILL-{day}", (now - timedelta(days=day + 0.5)).isoformat(), "", IMPORTED, 2, "RS-SF")
        for day in range(14)
    ]
    rows += [("TILL-SURGE", now.isoformat(), "", IMPORTED, 60, "RS-SF")]
    rows += [
        ("TILL-BAD", "last tuesday", "", IMPORTED, 1, "RS-SF"),
        ("TILL-LOST", now.isoformat(), "", "NO-SUCH", 1, ""),
    ]
    text = orders_csv(rows)

    first = restock.call("ImportOrders", pb.ImportOrdersRequest(csv=text), OPERATOR)
    assert (first.orders_added, first.orders_already_imported, first.lines_added) == (15, 0, 15)
    assert first.units_taken_from_stock == 60
    assert [(r.line, r.reason) for r in first.rejected] == [
        (17, "placed_at: 'last tuesday' is not an ISO 8601 date and time"),
        (18, "sku: no product 'NO-SUCH'"),
    ]
    # (28 + 60) / 14 is 6.3 a day against the 40 left: 6.4 days of cover, under 7.
    [prompt] = wait_for(lambda: restock.prompts(IMPORTED), timeout=20, what="a prompt from imported orders")
    assert (list(prompt.reasons), prompt.units_sold, prompt.available) == (["low_cover"], 88, 40)

    again = restock.call("ImportOrders", pb.ImportOrdersRequest(csv=text), OPERATOR)
    assert (again.orders_added, again.orders_already_imported, again.units_taken_from_stock) == (0, 15, 0)
    assert restock.call("GetStock", pb.GetStockRequest(sku=IMPORTED)).available == 40
    seen = prompt.evaluated_at.ToDatetime()
    [later] = wait_for(
        lambda: [p for p in restock.prompts(IMPORTED) if p.evaluated_at.ToDatetime() > seen],
        timeout=20,
        what="an evaluation after the second import",
    )
    assert (later.id, later.units_sold, later.available) == (prompt.id, 88, 40)
    assert (
        len(wait_for(lambda: restock.received("restock_prompt_raised", IMPORTED), timeout=10, what="event"))
        == 1
    )
    with pytest.raises(grpc.RpcError) as refused:
        restock.call("ImportOrders", pb.ImportOrdersRequest(csv=text), PLANNER)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_planner_sets_a_locations_reorder_point_audited_and_an_agent_may_not(restock):
    request = pb.SetReorderPointRequest(sku=STEADY, location_id="RS-SF", reorder_point=120)
    with pytest.raises(grpc.RpcError) as refused:
        restock.call("SetReorderPoint", request, AGENT)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as unstocked:
        restock.call(
            "SetReorderPoint", pb.SetReorderPointRequest(sku=STEADY, location_id="RS-NYC", reorder_point=5)
        )
    assert unstocked.value.code() == grpc.StatusCode.NOT_FOUND
    stock = restock.call("SetReorderPoint", request)
    [sf] = [level for level in stock.levels if level.location.id == "RS-SF"]
    # 100 on hand is now below its point of 120.
    assert (sf.reorder_point, sf.below_reorder_point) == (120, True)
    assert restock.sql(
        "SELECT changed_by, before, after FROM reorder_point_change WHERE sku = %s AND location_id = 'RS-SF'",
        (STEADY,),
    ) == [("sam", 0, 120)]


def test_an_imported_order_of_a_known_consumer_is_published_for_other_services_read_models(restock):
    add_product(restock, "RS-EVT", {"RS-SF": 100})
    consumer = str(uuid.uuid4())
    now = datetime.now(UTC)
    text = orders_csv([("WEB-EVT-1", now.isoformat(), consumer, "RS-EVT", 1, "RS-SF"),
                       ("TILL-EVT-2", now.isoformat(), "", "RS-EVT", 1, "RS-SF")])  # fmt: skip
    assert restock.call("ImportOrders", pb.ImportOrdersRequest(csv=text), OPERATOR).orders_added == 2

    def placed():
        restock.received("-", "")  # drains the queue into restock.events
        return [d for k, d in restock.events if k == "order_placed" and "RS-EVT" in str(d["lines"])]

    [event] = wait_for(placed, timeout=20, what="an order_placed event")
    assert (event["consumer_id"], event["lines"]) == (consumer, [{"sku": "RS-EVT", "lot_code": ""}])
    assert event["region"] == restock.sql("SELECT region FROM location WHERE id = 'RS-SF'")[0][0]
