from datetime import UTC, datetime, timedelta

import pytest

from services.billing import ledger
from services.billing.ledger import (
    Account,
    CreditStatus,
    CreditTerms,
    Entry,
    EntryKind,
    IdempotencyConflict,
    InvalidEntry,
)
from tests.unit.billing.fakes import FakeStore

ALICE = "0f8fad5b-d9cb-469f-a165-70867728950e"
BOB = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def entry(kind=EntryKind.INVOICE, amount=1000, currency="USD", consumer=ALICE, reference="", **kw) -> Entry:
    return Entry(
        consumer_id=consumer, kind=kind, amount_minor=amount, currency=currency, reference=reference, **kw
    )


async def post(store, key, **kw):
    return await ledger.post_entry(store=store, entry=entry(**kw), idempotency_key=key)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(EntryKind.INVOICE, 250), (EntryKind.PAYMENT, -250), (EntryKind.CREDIT, -250), (EntryKind.REFUND, 250)],
)
def test_each_kind_moves_the_balance_its_own_way(kind, expected):
    assert ledger.signed_amount(kind, 250) == expected


async def test_balance_follows_invoice_payment_credit_and_refund():
    store = FakeStore()
    await post(store, "k1", kind=EntryKind.INVOICE, amount=5000)
    await post(store, "k2", kind=EntryKind.PAYMENT, amount=2000)
    await post(store, "k3", kind=EntryKind.CREDIT, amount=4000)
    posted = await post(store, "k4", kind=EntryKind.REFUND, amount=500)
    assert posted.balance_minor == 5000 - 2000 - 4000 + 500
    summary = await ledger.account_summary(store=store, consumer_id=ALICE)
    assert (summary.has_account, summary.currency, summary.balance_minor) == (True, "USD", -500)


async def test_a_consumer_without_a_ledger_has_no_account_and_zero_balance():
    summary = await ledger.account_summary(store=FakeStore(), consumer_id=BOB)
    assert summary.has_account is False
    assert summary.balance_minor == 0
    assert summary.terms.status is CreditStatus.NONE


async def test_posting_the_same_key_twice_posts_once_and_returns_the_first_entry():
    store = FakeStore()
    first = await post(store, "same", amount=700)
    again = await post(store, "same", amount=700)
    assert again.replayed and not first.replayed
    assert again.entry.id == first.entry.id
    assert (await store.account(ALICE)).balance_minor == 700
    assert len(store.events) == 1


async def test_reusing_a_key_for_a_different_entry_is_refused():
    store = FakeStore()
    await post(store, "same", amount=700)
    with pytest.raises(IdempotencyConflict):
        await post(store, "same", amount=701)
    assert (await store.account(ALICE)).balance_minor == 700


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"amount": 0}, "positive"),
        ({"amount": -5}, "positive"),
        ({"currency": "usd"}, "ISO 4217"),
        ({"currency": "EURO"}, "ISO 4217"),
        ({"currency": ""}, "ISO 4217"),
        ({"consumer": "not-a-uuid"}, "UUID"),
        ({"reference": "x" * 201}, "reference"),
        ({"amount": 10**13}, "larger"),
    ],
)
async def test_bad_entries_are_refused_with_a_reason_and_change_nothing(overrides, words):
    store = FakeStore()
    with pytest.raises(InvalidEntry, match=words):
        await post(store, "k", **overrides)
    assert store.accounts == {} and store.events == []


async def test_an_idempotency_key_is_required():
    with pytest.raises(InvalidEntry, match="idempotency_key"):
        await post(FakeStore(), "")


async def test_an_account_keeps_the_currency_of_its_first_entry():
    store = FakeStore()
    await post(store, "k1", currency="GBP")
    with pytest.raises(InvalidEntry, match="kept in GBP"):
        await post(store, "k2", currency="EUR")
    assert (await store.account(ALICE)).balance_minor == 1000


async def test_each_posted_entry_records_its_event_with_the_new_balance():
    store = FakeStore([Account(ALICE, "USD", 300)])
    posted = await post(store, "k1", kind=EntryKind.PAYMENT, amount=100)
    assert store.events == [(posted.entry, 200, "USD")]


async def test_entries_are_listed_newest_first_within_the_limit():
    store = FakeStore()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for day in range(5):
        await post(store, f"k{day}", amount=100 + day, posted_at=start + timedelta(days=day))
    listed = await ledger.list_entries(store=store, consumer_id=ALICE, limit=3)
    assert [e.amount_minor for e in listed] == [104, 103, 102]
    with pytest.raises(InvalidEntry):
        await ledger.list_entries(store=store, consumer_id=ALICE, limit=-1)


def test_credit_available_is_the_unused_limit_in_good_standing_only():
    terms = CreditTerms(50_000, "Net 30", 30, CreditStatus.GOOD_STANDING)
    assert terms.available_minor(12_000) == 38_000
    assert terms.available_minor(-5_000) == 50_000  # a credit balance does not raise the limit
    assert terms.available_minor(60_000) == 0
    on_hold = CreditTerms(50_000, "Net 30", 30, CreditStatus.ON_HOLD)
    assert on_hold.available_minor(0) == 0


def test_payment_terms_are_named_the_usual_way():
    assert ledger.payment_terms_label(30) == "Net 30"
    assert ledger.payment_terms_label(0) == "Due on receipt"
