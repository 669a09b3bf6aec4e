"""Approval limits as data an admin edits, through the real fulfillment API and workers: an agent's own
limit replaces their role's at their next request, a supervisor may read but not edit, and each change
is kept with who made it and the values before and after."""

from __future__ import annotations

import json

import grpc
import pytest
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.runtime.principal import Principal
from tests.integration.fulfillment.conftest import OPERATOR, SUPERVISOR

BEN = Principal("ben", "agent")


def test_an_admin_lowers_an_agents_limit_and_their_next_refund_above_it_waits_for_approval(stack, directory):
    case = directory.add_case(phones=["+15550100077"])
    # Within the agent role's 25.00 a refund of 15.00 is approved at once.
    assert stack.request(case, "refund", value=1500, principal=BEN).state != "awaiting_approval"
    ben_usd = pb.ApprovalLimit(
        scope="agent", name="ben", currency="USD", max_value_minor=1000, max_period_minor=5000, period_days=30
    )
    with pytest.raises(grpc.RpcError) as supervisor_tries:
        stack.call("SetApprovalLimit", ben_usd, SUPERVISOR)
    assert supervisor_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        stack.call("SetApprovalLimit", pb.ApprovalLimit(scope="agent", name="ben", currency="USD",
                                                        max_value_minor=1000, max_period_minor=500,
                                                        period_days=30), OPERATOR)  # fmt: skip
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "max_period_minor" in bad.value.details()
    try:
        stack.call("SetApprovalLimit", ben_usd, OPERATOR)
        other = directory.add_case(phones=["+15550100078"])
        asked = stack.request(other, "refund", value=1500, principal=BEN)
        assert asked.state == "awaiting_approval" and "1000" in asked.reason
        assert stack.request(other, "refund", value=800, principal=BEN).state != "awaiting_approval"
        read = stack.call("ListApprovalLimits", pb.ListApprovalLimitsRequest(), SUPERVISOR)
        assert ("agent", "ben", "USD", 1000) in [
            (x.scope, x.name, x.currency, x.max_value_minor) for x in read.limits
        ]
        change = read.changes[0]
        assert (change.name, change.changed_by, change.before_json) == ("ben", "ops", "")
        assert json.loads(change.after_json)["max_value_minor"] == 1000
    finally:
        removed = stack.call("RemoveApprovalLimit", ben_usd, OPERATOR)
    assert "ben" not in [x.name for x in removed.limits]
    assert (json.loads(removed.changes[0].before_json)["max_value_minor"], removed.changes[0].after_json) == (
        1000,
        "",
    )
    # The role's limit applies again.
    third = directory.add_case(phones=["+15550100079"])
    assert stack.request(third, "refund", value=1500, principal=BEN).state != "awaiting_approval"


def test_an_admin_tightens_the_coupon_fraud_limits_and_the_next_coupon_over_them_is_refused(stack, directory):
    current = stack.call("GetCouponPolicy", pb.GetCouponPolicyRequest(), SUPERVISOR)
    tight = pb.CouponPolicy(max_per_consumer=1, max_per_household=1, period_days=90, valid_days=180)
    with pytest.raises(grpc.RpcError) as supervisor_tries:
        stack.call("SetCouponPolicy", tight, SUPERVISOR)
    assert supervisor_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        stack.call("SetCouponPolicy", pb.CouponPolicy(max_per_consumer=3, max_per_household=2, period_days=90,
                                                      valid_days=180), OPERATOR)  # fmt: skip
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "max_per_household" in bad.value.details()
    restore = pb.CouponPolicy(max_per_consumer=current.max_per_consumer, max_per_household=current.max_per_household,
                              period_days=current.period_days, valid_days=current.valid_days)  # fmt: skip
    try:
        changed = stack.call("SetCouponPolicy", tight, OPERATOR)
        assert (changed.max_per_consumer, changed.changes[0].changed_by) == (1, "ops")
        assert json.loads(changed.changes[0].before_json)["max_per_consumer"] == current.max_per_consumer
        case = directory.add_case(phones=["+15550100081"], address=("9 Quiet Lane", "10001"), country="US")
        stack.request(case, "coupon", value=100)
        with pytest.raises(grpc.RpcError) as second:
            stack.request(case, "coupon", value=100)
        assert second.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        stack.call("SetCouponPolicy", restore, OPERATOR)
