"""Reply fulfillment's rules: plans, approval limits, fraud limits and households; the request use cases
run against a fake store and directory."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment import replies, requesting
from services.fulfillment.replies import (
    ApprovalLimit,
    CouponPolicy,
    FraudLimit,
    Fulfillment,
    InvalidRequest,
    Kind,
    NotAllowed,
    State,
    WrongState,
)
from services.fulfillment.requesting import Household
from services.runtime.principal import Principal

CASE = "7d2c9a52-0a8a-4c57-9c5e-1f0d8f8e0c11"
CONSUMER = "0b7e8f4e-3d2a-4e7b-9a61-4f1d2c3b4a59"
ADA = Principal("ada", "agent")
SAM = Principal("sam", "supervisor")
LIMIT = ApprovalLimit(max_value_minor=2500, max_period_minor=5000, period_days=30)
POLICY = CouponPolicy(max_per_consumer=2, max_per_household=3, period_days=90, valid_days=180)


def test_each_kind_walks_its_plan_from_approved_to_rest():
    def walk(kind):
        state, stage, seen = State.APPROVED, "", []
        while (step := replies.next_step(kind, state, stage)) is not None:
            seen.append(step.name)
            state, stage = step.to_state, step.to_stage
        return seen, state

    assert walk(Kind.COUPON) == (["issue", "send"], State.DELIVERED)
    assert walk(Kind.REFUND) == (["request_credit"], State.IN_PROGRESS)
    assert walk(Kind.REPLACEMENT) == (["reserve", "pick", "ship"], State.SHIPPED)
    assert walk(Kind.SAMPLE) == (["reserve", "pick", "ship"], State.SHIPPED)
    assert walk(Kind.LETTER) == (["print", "post"], State.SHIPPED)
    assert walk(Kind.RETURN_MAILER) == (["issue", "post"], State.SHIPPED)
    assert replies.next_step(Kind.COUPON, State.AWAITING_APPROVAL, "") is None


@pytest.mark.parametrize(
    ("value", "total", "waits"),
    [(0, 10_000, False), (2500, 2500, False), (2501, 0, True), (2000, 3001, True), (2000, 3000, False)],
)
def test_within_both_limits_is_approved_at_once_and_above_either_waits(value, total, waits):
    reason = replies.needs_approval(value_minor=value, limit=LIMIT, consumer_total_minor=total)
    assert (reason is not None) is waits


def test_without_a_limit_in_that_currency_any_value_waits():
    assert "no approval limit" in replies.needs_approval(value_minor=1, limit=None, consumer_total_minor=0)


def test_a_household_is_its_numbers_and_its_door_whatever_the_spelling():
    one = replies.household_keys(phones=["+33142000000"], addresses=[("fr", "75 002", "12 Rue de la Paix")])
    two = replies.household_keys(phones=[], addresses=[("FR", "75002", "12 rue de la paix.")])
    assert set(one) & set(two) == {"addr:FR:75002:12ruedelapaix"}
    assert "tel:+33142000000" in one


def test_only_a_supervisor_decides_and_only_a_waiting_request_and_a_refusal_needs_a_reason():
    with pytest.raises(NotAllowed):
        replies.check_decision(role="agent", state=State.AWAITING_APPROVAL, refusing=False)
    with pytest.raises(WrongState):
        replies.check_decision(role="supervisor", state=State.APPROVED, refusing=False)
    with pytest.raises(InvalidRequest):
        replies.check_decision(role="supervisor", state=State.AWAITING_APPROVAL, reason=" ", refusing=True)
    assert (
        replies.check_decision(role="admin", state="awaiting_approval", reason=" ok ", refusing=True) == "ok"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "voucher"}, "kind must be"),
        ({"kind": "refund", "value_minor": 0}, "needs a value"),
        ({"kind": "replacement", "sku": ""}, "SKU"),
        ({"kind": "letter", "template": ""}, "template"),
        ({"case_id": "42"}, "UUID"),
        ({"quantity": 1000}, "quantity"),
        ({"currency": "dollars"}, "ISO 4217"),
    ],
)
def test_a_request_that_its_kind_cannot_carry_is_refused(fields, message):
    base = dict(
        case_id=CASE,
        kind="coupon",
        value_minor=100,
        currency="USD",
        sku="X",
        quantity=1,
        template="t",
        idempotency_key="",
    )
    with pytest.raises(InvalidRequest, match=message):
        replies.validate(**{**base, **fields})


# ---- the use cases, over fakes ----


@dataclass
class FakeDirectory:
    household: Household = field(default_factory=lambda: Household(CONSUMER, "US", ("tel:+15550100000",)))

    async def household_of_case(self, case_id: str) -> Household:
        return self.household


@dataclass
class FakeStore:
    limits: dict[tuple[str, str], ApprovalLimit] = field(default_factory=lambda: {("role", "agent"): LIMIT})
    rows: dict[str, Fulfillment] = field(default_factory=dict)
    drafts: dict[str, requesting.Draft] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self):
        yield FakeTransaction(self)

    async def get(self, fulfillment_id):
        return self.rows.get(fulfillment_id)


class FakeTransaction:
    def __init__(self, store: FakeStore):
        self.store = store
        self.staged: list = []

    async def by_idempotency_key(self, key):
        return self.store.keys.get(key)

    async def lock_consumer(self, consumer_id, household_keys):
        pass

    async def approval_limit(self, username, role, currency):
        return self.store.limits.get(("agent", username)) or self.store.limits.get(("role", role))

    async def consumer_total(self, consumer_id, currency, since):
        return sum(
            d.request.value_minor
            for d in self.store.drafts.values()
            if d.household.consumer_id == consumer_id
            and self.store.rows[d.id].state not in ("cancelled", "failed")
        )

    async def coupon_policy(self):
        return POLICY

    async def coupon_counts(self, consumer_id, household_keys, since):
        coupons = [d for d in self.store.drafts.values() if d.request.kind is Kind.COUPON]
        mine = sum(d.household.consumer_id == consumer_id for d in coupons)
        house = sum(
            d.household.consumer_id == consumer_id
            or bool(set(d.household.household_keys) & set(household_keys))
            for d in coupons
        )
        return mine, house

    async def insert(self, draft):
        self.staged.append(("insert", draft))
        return datetime.now(UTC)

    async def lock(self, fulfillment_id):
        return self.store.rows.get(fulfillment_id)

    async def decide(self, fulfillment, to, actor, reason):
        self.staged.append(("decide", replace(fulfillment, state=to.value, decided_by=actor, reason=reason)))

    async def commit(self):
        for what, item in self.staged:
            if what == "insert":
                now = datetime.now(UTC)
                self.store.drafts[item.id] = item
                if item.request.idempotency_key:
                    self.store.keys[item.request.idempotency_key] = item.id
                self.store.rows[item.id] = Fulfillment(
                    item.id,
                    item.request.case_id,
                    item.household.consumer_id,
                    item.request.kind.value,
                    item.state.value,
                    "",
                    item.request.value_minor,
                    item.request.currency,
                    item.request.sku,
                    item.request.quantity,
                    item.request.template,
                    item.requested_by.username,
                    "",
                    item.reason,
                    now,
                    now,
                )
            else:
                self.store.rows[item.id] = item


def new(kind="refund", value=1000, key=""):
    return replies.validate(
        case_id=CASE,
        kind=kind,
        value_minor=value,
        currency="USD",
        sku="",
        quantity=1,
        template="",
        idempotency_key=key,
    )


async def test_an_agents_request_within_limits_is_approved_and_above_them_waits_for_sam():
    store, directory = FakeStore(), FakeDirectory()
    small = (
        await requesting.request(store=store, directory=directory, new=new(value=2000), principal=ADA)
    ).id
    assert store.rows[small].state == "approved"
    # 3500 is above the 2500 an agent may grant in one fulfillment.
    big = (await requesting.request(store=store, directory=directory, new=new(value=3500), principal=ADA)).id
    assert store.rows[big].state == "awaiting_approval" and "per fulfillment" in store.rows[big].reason
    # 2000 + 2000 + 2000 > 5000 a month: the period total makes the third wait.
    await requesting.request(store=store, directory=directory, new=new(value=2000), principal=ADA)
    third = (
        await requesting.request(store=store, directory=directory, new=new(value=2000), principal=ADA)
    ).id
    assert "total" in store.rows[third].reason
    await requesting.decide(store=store, fulfillment_id=big, principal=SAM, approve=True)
    assert (store.rows[big].state, store.rows[big].decided_by) == ("approved", "sam")


async def test_an_agents_own_limit_overrides_their_roles():
    store = FakeStore()
    store.limits[("agent", "ada")] = ApprovalLimit(10_000, 20_000, 30)
    fid = (
        await requesting.request(store=store, directory=FakeDirectory(), new=new(value=9000), principal=ADA)
    ).id
    assert store.rows[fid].state == "approved"


async def test_the_same_idempotency_key_returns_the_first_request():
    store, directory = FakeStore(), FakeDirectory()
    first = (await requesting.request(store=store, directory=directory, new=new(key="k-1"), principal=ADA)).id
    again = (await requesting.request(store=store, directory=directory, new=new(key="k-1"), principal=ADA)).id
    assert first == again and len(store.rows) == 1


async def test_coupons_stop_at_the_consumers_limit_and_then_at_the_households():
    store = FakeStore()
    me = FakeDirectory()
    for _ in range(2):
        await requesting.request(store=store, directory=me, new=new(kind="coupon", value=100), principal=ADA)
    with pytest.raises(FraudLimit, match="consumer"):
        await requesting.request(store=store, directory=me, new=new(kind="coupon", value=100), principal=ADA)
    flatmate = FakeDirectory(Household("5f0c1f5e-1111-4222-8333-444455556666", "US", ("tel:+15550100000",)))
    await requesting.request(
        store=store, directory=flatmate, new=new(kind="coupon", value=100), principal=ADA
    )
    with pytest.raises(FraudLimit, match="household"):
        await requesting.request(
            store=store, directory=flatmate, new=new(kind="coupon", value=100), principal=ADA
        )


def test_a_coupon_is_valid_until_it_expires_or_is_redeemed():
    from services.fulfillment.coupons import Coupon

    now = datetime(2026, 1, 1, tzinfo=UTC)
    coupon = Coupon("C", "F", 100, "USD", (), expires_at=now + timedelta(days=1))
    assert coupon.status(now) == "valid"
    assert coupon.status(now + timedelta(days=1)) == "expired"
    assert replace(coupon, redeemed_at=now).status(now) == "redeemed"
