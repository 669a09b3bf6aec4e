"""Every kind of fulfillment end to end, through the API, the relay, RabbitMQ, the nameko worker,
billing and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest
from crs.billing.v1 import billing_pb2
from crs.fulfillment.v1 import fulfillment_pb2

from tests.integration.fulfillment.conftest import OPERATOR, SUPERVISOR
from tests.support.wait import wait_for

SKU = "FD-OAT-500"


@pytest.fixture(scope="module", autouse=True)
def products(stack):
    stack.sql(
        "INSERT INTO fulfillment.product (sku, name) VALUES ('FD-OAT-500', 'Golden Rolled Oats'),"
        " ('PC-SOP-4', 'Moisturising Bar Soap') ON CONFLICT DO NOTHING"
    )


def stock_in(stack, sku: str, counts: dict[str, int]):
    locations = [
        fulfillment_pb2.Location(
            id=loc, name=loc, kind="distribution_centre", country="US", region="East", serves=["US"]
        )
        for loc in counts
    ]
    rows = [fulfillment_pb2.StockRow(sku=sku, location_id=loc, on_hand=n) for loc, n in counts.items()]
    stack.call("ImportStock", fulfillment_pb2.ImportStockRequest(locations=locations, rows=rows), OPERATOR)


def states(f: fulfillment_pb2.FulfillmentRequest) -> list[str]:
    return [h.state + (f"/{h.stage}" if h.stage else "") for h in f.history]


def test_a_coupon_within_the_agents_limit_is_issued_and_redeems_exactly_once(stack, directory):
    case = directory.add_case(phones=["+15550100001"])
    asked = stack.request(case, "coupon", value=500, sku=SKU)
    assert asked.state in ("approved", "in_progress", "delivered")
    done = stack.wait_state(asked.id, "delivered")
    assert states(done) == ["requested", "approved", "in_progress/issued", "delivered"]
    code = done.coupon_code
    checked = stack.call("CheckCoupon", fulfillment_pb2.CouponRequest(code=code.lower().replace("-", " ")))
    assert (checked.status, checked.value.amount_minor, list(checked.skus)) == ("valid", 500, [SKU])
    redeemed = stack.call(
        "RedeemCoupon", fulfillment_pb2.CouponRequest(code=code, redemption_reference="CH-1"), SUPERVISOR
    )
    assert redeemed.status == "redeemed"
    # The clearing house retrying its own redemption is answered again; anyone else is refused.
    again = stack.call(
        "RedeemCoupon", fulfillment_pb2.CouponRequest(code=code, redemption_reference="CH-1"), SUPERVISOR
    )
    assert again.redeemed_at == redeemed.redeemed_at
    with pytest.raises(grpc.RpcError) as second:
        stack.call(
            "RedeemCoupon", fulfillment_pb2.CouponRequest(code=code, redemption_reference="CH-2"), SUPERVISOR
        )
    assert second.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_forged_or_mistyped_coupon_code_is_refused(stack, directory):
    case = directory.add_case(phones=["+15550100002"])
    code = stack.wait_state(stack.request(case, "coupon", value=300).id, "delivered").coupon_code
    last = code[-1]
    forged = code[:-1] + ("2" if last != "2" else "3")
    for bad in (forged, "AAAA-BBBB-CCCC-DDDD", "hello"):
        with pytest.raises(grpc.RpcError) as refused:
            stack.call("RedeemCoupon", fulfillment_pb2.CouponRequest(code=bad), SUPERVISOR)
        assert refused.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    assert stack.call("CheckCoupon", fulfillment_pb2.CouponRequest(code=code)).status == "valid"


def test_coupon_fraud_limits_hold_for_a_consumer_and_for_a_household(stack, directory):
    # The seeded policy: 2 per consumer, 3 per household, in 90 days.
    alone = directory.add_case(phones=["+15550100003"])
    for _ in range(2):
        stack.request(alone, "coupon", value=100)
    with pytest.raises(grpc.RpcError) as third:
        stack.request(alone, "coupon", value=100)
    assert third.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "consumer" in third.value.details()

    door = ("12 Rue de la Paix", "75002")
    flatmates = [directory.add_case(address=door, country="FR") for _ in range(2)]
    partner = directory.add_case(address=("12 rue de la paix.", "75 002"), country="FR")
    stack.request(flatmates[0], "coupon", value=100, currency="EUR")
    stack.request(flatmates[1], "coupon", value=100, currency="EUR")
    stack.request(flatmates[1], "coupon", value=100, currency="EUR")
    with pytest.raises(grpc.RpcError) as fourth:
        stack.request(partner, "coupon", value=100, currency="EUR")
    assert fourth.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "household" in fourth.value.details()


def test_a_refund_above_the_agents_limit_waits_for_a_supervisor_and_is_credited_once(stack, directory):
    case = directory.add_case(phones=["+15550100004"])
    asked = stack.request(case, "refund", value=4000)
    assert asked.state == "awaiting_approval" and "limit" in asked.reason
    # The answer is the request as written, not read back: it must be what a lookup shows.
    assert asked == stack.get(asked.id)
    with pytest.raises(grpc.RpcError) as agent_tries:
        stack.call("ApproveFulfillment", fulfillment_pb2.DecideFulfillmentRequest(id=asked.id))
    assert agent_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED
    queue = stack.call("ListFulfillments", fulfillment_pb2.ListFulfillmentsRequest(state="awaiting_approval"))
    assert asked.id in [f.id for f in queue.fulfillments]
    stack.call("ApproveFulfillment", fulfillment_pb2.DecideFulfillmentRequest(id=asked.id), SUPERVISOR)
    done = stack.wait_state(asked.id, "delivered")
    assert states(done) == [
        "requested",
        "awaiting_approval",
        "approved",
        "in_progress/credit_requested",
        "delivered",
    ]
    assert done.decided_by == "sam"
    entries = stack.billing.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(consumer_id=done.consumer_id), timeout=5
    ).entries
    assert [(e.kind, e.amount.amount_minor, e.reference) for e in entries] == [
        (billing_pb2.ENTRY_KIND_CREDIT, 4000, f"fulfillment:{asked.id}")
    ]


def test_a_refused_request_is_cancelled_with_its_reason_and_a_refusal_needs_one(stack, directory):
    case = directory.add_case(phones=["+15550100005"])
    asked = stack.request(case, "refund", value=9000)
    with pytest.raises(grpc.RpcError) as bare:
        stack.call("RefuseFulfillment", fulfillment_pb2.DecideFulfillmentRequest(id=asked.id), SUPERVISOR)
    assert bare.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    refused = stack.call(
        "RefuseFulfillment",
        fulfillment_pb2.DecideFulfillmentRequest(id=asked.id, reason="duplicate of an earlier refund"),
        SUPERVISOR,
    )
    assert (refused.state, refused.reason) == ("cancelled", "duplicate of an earlier refund")


def test_a_request_waiting_past_its_time_is_escalated_once(stack, directory):
    case = directory.add_case(phones=["+15550100006"])
    asked = stack.request(case, "refund", value=8000)
    escalated = wait_for(lambda: (f := stack.get(asked.id)).HasField("escalated_at") and f, timeout=20)
    assert escalated.state == "awaiting_approval"
    assert [h.stage for h in stack.get(asked.id).history].count("escalated") == 1


@pytest.mark.parametrize("kind", ["replacement", "sample"])
def test_a_replacement_or_sample_is_reserved_picked_shipped_and_delivered(stack, directory, kind):
    stock_in(stack, "PC-SOP-4", {"DC-EAST": 10})
    case = directory.add_case(phones=[f"+1555010010{len(kind)}"], address=("1 Main St", "10001"))
    asked = stack.request(case, kind, sku="PC-SOP-4", quantity=2)
    shipped = stack.wait_state(asked.id, "shipped", "delivered")
    assert shipped.shipment.carrier == "demo" and shipped.shipment.tracking_number.startswith("CRS")
    done = stack.wait_state(asked.id, "delivered")
    assert states(done)[:5] == [
        "requested",
        "approved",
        "in_progress/reserved",
        "in_progress/picked",
        "shipped",
    ]
    assert done.shipment.status == "delivered"


def test_a_carrier_update_through_the_api_delivers_and_a_repeat_changes_nothing(stack, directory):
    case = directory.add_case(phones=["+15550100201"])
    asked = stack.request(case, "return_mailer")
    posted = stack.wait_state(asked.id, "shipped", "delivered")
    update = fulfillment_pb2.UpdateShipmentRequest(
        carrier="demo", tracking_number=posted.shipment.tracking_number, status="delivered"
    )
    stack.call("UpdateShipment", update, OPERATOR)
    stack.call("UpdateShipment", update, OPERATOR)
    done = stack.wait_state(asked.id, "delivered")
    assert states(done).count("delivered") == 1


def test_a_letter_is_printed_and_posted(stack, directory):
    case = directory.add_case(phones=["+15550100301"])
    done = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    assert states(done) == ["requested", "approved", "in_progress/printed", "shipped"]


def test_a_returned_product_is_recorded_once_with_quality_assurances_finding(stack, directory):
    case = directory.add_case(phones=["+15550100401"])
    asked = stack.request(case, "return_mailer")
    stack.wait_state(asked.id, "shipped", "delivered")
    finding = fulfillment_pb2.RecordReturnRequest(
        fulfillment_id=asked.id, finding="seal intact; lot 24B11 mould"
    )
    with pytest.raises(grpc.RpcError) as agent:
        stack.call("RecordReturn", finding)
    assert agent.value.code() == grpc.StatusCode.PERMISSION_DENIED
    recorded = stack.call("RecordReturn", finding, SUPERVISOR)
    assert (recorded.state, recorded.stage) == ("delivered", "returned")
    assert "lot 24B11 mould" in recorded.history[-1].note and recorded.history[-1].actor == "sam"
    with pytest.raises(grpc.RpcError) as again:
        stack.call("RecordReturn", finding, SUPERVISOR)
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
