"""Reply fulfillment's rules: the kinds, the workflow each follows, and whether a request needs approval.

Plain Python: no SQL, psycopg or protobuf. The API's use cases and the workflow worker both read their
steps from here, so the states a request passes through are declared once.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

MAX_VALUE_MINOR = 10**9
MAX_QUANTITY = 100
MAX_REASON = 1000
MAX_TEMPLATE = 100


class InvalidRequest(ValueError):
    """The request cannot become a fulfillment; the message says why."""


class NotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    """The caller's role may not do this."""


class WrongState(RuntimeError):
    """The fulfillment is not in a state where this can happen (e.g. approving an approved one)."""


class FraudLimit(RuntimeError):
    """A coupon would exceed the limits per consumer or per household."""


class Kind(enum.StrEnum):
    COUPON = "coupon"
    REFUND = "refund"
    REPLACEMENT = "replacement"
    SAMPLE = "sample"
    LETTER = "letter"
    RETURN_MAILER = "return_mailer"


class State(enum.StrEnum):
    REQUESTED = "requested"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Delivery(enum.StrEnum):
    """How a letter reaches the consumer."""

    POST = "post"
    EMAIL = "email"


OPEN = (State.REQUESTED, State.AWAITING_APPROVAL, State.APPROVED, State.IN_PROGRESS)
# Kinds that carry money: their value is required and counts against the limits.
VALUED = (Kind.COUPON, Kind.REFUND)
# Kinds that take a product from stock.
FROM_STOCK = (Kind.REPLACEMENT, Kind.SAMPLE)
APPROVERS = ("supervisor", "admin")


@dataclass(frozen=True)
class Step:
    """One step of a workflow: from (state, stage) to (state, stage), done in one transaction."""

    name: str
    from_state: State
    from_stage: str
    to_state: State
    to_stage: str = ""


_STOCK_STEPS = (
    Step("reserve", State.APPROVED, "", State.IN_PROGRESS, "reserved"),
    Step("pick", State.IN_PROGRESS, "reserved", State.IN_PROGRESS, "picked"),
    Step("ship", State.IN_PROGRESS, "picked", State.SHIPPED),
)

# What the worker does for each kind, in order. A refund's last move (to delivered) is billing's
# confirmation that the credit was posted; a shipment's is the carrier's delivery scan.
PLANS: dict[Kind, tuple[Step, ...]] = {
    Kind.COUPON: (
        Step("issue", State.APPROVED, "", State.IN_PROGRESS, "issued"),
        Step("send", State.IN_PROGRESS, "issued", State.DELIVERED),
    ),
    Kind.REFUND: (Step("request_credit", State.APPROVED, "", State.IN_PROGRESS, "credit_requested"),),
    Kind.REPLACEMENT: _STOCK_STEPS,
    Kind.SAMPLE: _STOCK_STEPS,
    Kind.LETTER: (
        Step("print", State.APPROVED, "", State.IN_PROGRESS, "printed"),
        Step("post", State.IN_PROGRESS, "printed", State.SHIPPED),
    ),
    Kind.RETURN_MAILER: (
        Step("issue", State.APPROVED, "", State.IN_PROGRESS, "issued"),
        Step("post", State.IN_PROGRESS, "issued", State.SHIPPED),
    ),
}
# A letter going by email is printed by the worker, like one going by post, and then waits: its last move
# is channels taking it (SendLetter), which the API process asks for, as the worker speaks no gRPC
# (services/fulfillment/letter_mail.py).
EMAILED_LETTER = (PLANS[Kind.LETTER][0],)
EMAIL_LETTER = Step("email", State.IN_PROGRESS, "printed", State.DELIVERED)
STEP_NAMES = sorted({step.name for plan in PLANS.values() for step in plan} | {EMAIL_LETTER.name})


def plan(kind: Kind | str, delivery: Delivery | str = Delivery.POST) -> tuple[Step, ...]:
    """The worker's steps for a request of `kind` going by `delivery`."""
    if Kind(kind) is Kind.LETTER and delivery == Delivery.EMAIL:
        return EMAILED_LETTER
    return PLANS[Kind(kind)]


def next_step(
    kind: Kind | str, state: State | str, stage: str, delivery: Delivery | str = Delivery.POST
) -> Step | None:
    """The step that moves a request of `kind` on from where it is, or None when it waits or is done."""
    for step in plan(kind, delivery):
        if step.from_state == state and step.from_stage == stage:
            return step
    return None


@dataclass(frozen=True)
class NewRequest:
    case_id: str
    kind: Kind
    value_minor: int
    currency: str
    sku: str
    quantity: int
    template: str
    idempotency_key: str
    delivery: Delivery = Delivery.POST


def parse_uuid(raw: str, what: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except (ValueError, AttributeError, TypeError):
        raise InvalidRequest(f"{what} must be a UUID, not {str(raw)[:60]!r}") from None


def validate(
    *,
    case_id: str,
    kind: str,
    value_minor: int,
    currency: str,
    sku: str,
    quantity: int,
    template: str,
    idempotency_key: str,
    delivery: str = "",
) -> NewRequest:
    """Check a request's fields against its kind."""
    case_id = parse_uuid(case_id, "case_id")
    try:
        kind = Kind(kind)
    except ValueError:
        raise InvalidRequest(
            f"kind must be one of {', '.join(k.value for k in Kind)}, not {kind[:40]!r}"
        ) from None
    if value_minor < 0 or value_minor > MAX_VALUE_MINOR:
        raise InvalidRequest(f"value must be between 0 and {MAX_VALUE_MINOR} minor units")
    if kind in VALUED and value_minor == 0:
        raise InvalidRequest(f"a {kind} needs a value")
    currency = (currency or "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidRequest(f"currency must be an ISO 4217 code, not {currency[:10]!r}")
    quantity = quantity or 1
    if not 0 < quantity <= MAX_QUANTITY:
        raise InvalidRequest(f"quantity must be between 1 and {MAX_QUANTITY}")
    if kind in FROM_STOCK and not sku:
        raise InvalidRequest(f"a {kind} needs the product's SKU")
    if kind is Kind.LETTER and not template:
        raise InvalidRequest("a letter needs a template")
    if len(template) > MAX_TEMPLATE:
        raise InvalidRequest(f"template is longer than {MAX_TEMPLATE} characters")
    if len(idempotency_key) > 200:
        raise InvalidRequest("idempotency_key is longer than 200 characters")
    return NewRequest(
        case_id,
        kind,
        value_minor,
        currency,
        sku,
        quantity,
        template,
        idempotency_key,
        _delivery(kind, delivery),
    )


def _delivery(kind: Kind, delivery: str) -> Delivery:
    try:
        chosen = Delivery(delivery or Delivery.POST)
    except ValueError:
        raise InvalidRequest(f"delivery must be post or email, not {delivery[:40]!r}") from None
    if chosen is Delivery.EMAIL and kind is not Kind.LETTER:
        raise InvalidRequest(f"only a letter can go by email, not a {kind}")
    return chosen


def email_refusal(delivery: Delivery, email_address: str) -> str | None:
    """Why a request cannot go as asked to a consumer with this email address (empty: none), or None."""
    if delivery is Delivery.EMAIL and not email_address:
        return "the consumer has no email address: send the letter by post, or add their address first"
    return None


@dataclass(frozen=True)
class ApprovalLimit:
    """What one role or agent may grant without a supervisor, in one currency."""

    max_value_minor: int
    max_period_minor: int
    period_days: int


def needs_approval(*, value_minor: int, limit: ApprovalLimit | None, consumer_total_minor: int) -> str | None:
    """Why a request must wait for a supervisor, or None when it is approved at once.

    `consumer_total_minor` is what the consumer has already been granted in the limit's period (open and
    completed requests, not cancelled or failed ones).
    """
    if value_minor == 0:
        return None
    if limit is None:
        return "no approval limit is set for this role or agent in this currency"
    if value_minor > limit.max_value_minor:
        return f"value {value_minor} is above the limit of {limit.max_value_minor} per fulfillment"
    if consumer_total_minor + value_minor > limit.max_period_minor:
        return (
            f"the consumer's total in {limit.period_days} days would be "
            f"{consumer_total_minor + value_minor}, above the limit of {limit.max_period_minor}"
        )
    return None


@dataclass(frozen=True)
class CouponPolicy:
    max_per_consumer: int
    max_per_household: int
    period_days: int
    valid_days: int


def coupon_refusal(policy: CouponPolicy, *, consumer_count: int, household_count: int) -> str | None:
    """Why another coupon may not be issued, given those already requested in the policy's period."""
    if consumer_count >= policy.max_per_consumer:
        return (
            f"the consumer already has {consumer_count} coupons in {policy.period_days} days "
            f"(limit {policy.max_per_consumer})"
        )
    if household_count >= policy.max_per_household:
        return (
            f"the household already has {household_count} coupons in {policy.period_days} days "
            f"(limit {policy.max_per_household})"
        )
    return None


def household_keys(*, phones: list[str], addresses: list[tuple[str, str, str]]) -> list[str]:
    """The keys that tie a consumer to a household: each E.164 number, and each postal address.

    An address is keyed by country, postcode and first line, folded to lower case without spaces or
    punctuation, so "12 Rue  de la Paix" and "12 rue de la paix." are the same door.
    """
    keys = {f"tel:{number}" for number in phones if number}
    for country, postcode, line in addresses:
        folded = "".join(ch for ch in line.lower() if ch.isalnum())
        code = "".join(ch for ch in postcode.upper() if ch.isalnum())
        if folded:
            keys.add(f"addr:{country.upper()}:{code}:{folded}")
    return sorted(keys)


def check_decision(*, role: str, state: State | str, reason: str | None = None, refusing: bool) -> str:
    """Whether a person with `role` may decide a request in `state`; returns the cleaned reason."""
    if role not in APPROVERS:
        raise NotAllowed("only a supervisor or an admin approves or refuses fulfillments")
    if state != State.AWAITING_APPROVAL:
        raise WrongState(f"this fulfillment is {state}, not awaiting approval")
    reason = (reason or "").strip()
    if refusing and not reason:
        raise InvalidRequest("a refusal needs a reason")
    if len(reason) > MAX_REASON:
        raise InvalidRequest(f"reason is longer than {MAX_REASON} characters")
    return reason


def is_overdue(waiting_since: datetime, now: datetime, escalate_after_seconds: float) -> bool:
    return (now - waiting_since).total_seconds() >= escalate_after_seconds


SHIPMENT_STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered", "returned", "lost")
# The demo carrier's journey, one status per tick.
DEMO_JOURNEY = ("label_created", "in_transit", "out_for_delivery", "delivered")


def shipment_outcome(status: str) -> State | None:
    """The request state a carrier status brings: delivered, or failed when the parcel is lost."""
    if status not in SHIPMENT_STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(SHIPMENT_STATUSES)}, not {status[:40]!r}")
    if status == "delivered":
        return State.DELIVERED
    if status == "lost":
        return State.FAILED
    return None


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    state: str
    stage: str
    actor: str
    note: str


@dataclass(frozen=True)
class Shipment:
    fulfillment_id: str
    carrier: str
    tracking_number: str
    status: str
    updated_at: datetime
    location_id: str = ""


@dataclass(frozen=True)
class Fulfillment:
    """One request, as the API shows it."""

    id: str
    case_id: str
    consumer_id: str
    kind: str
    state: str
    stage: str
    value_minor: int
    currency: str
    sku: str
    quantity: int
    template: str
    requested_by: str
    decided_by: str
    reason: str
    created_at: datetime
    updated_at: datetime
    escalated_at: datetime | None = None
    coupon_code: str = ""
    shipment: Shipment | None = None
    history: tuple[HistoryEntry, ...] = ()
    delivery: str = Delivery.POST.value


MAX_FINDING = 2000


def check_return(*, kind: str, state: str, stage: str, finding: str) -> str:
    """Whether a returned product can be recorded on this request; returns the cleaned finding."""
    if kind != Kind.RETURN_MAILER:
        raise WrongState(f"a {kind} has no product coming back")
    if state not in (State.SHIPPED, State.DELIVERED) or stage == "returned":
        raise WrongState(
            "the mailer has not been posted yet" if state != State.DELIVERED else "already recorded"
        )
    finding = (finding or "").strip()
    if not finding:
        raise InvalidRequest("quality assurance's finding is required")
    if len(finding) > MAX_FINDING:
        raise InvalidRequest(f"the finding is longer than {MAX_FINDING} characters")
    return finding
