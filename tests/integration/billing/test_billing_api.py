"""The Billing gRPC API over a real channel, against the real database and broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc
import pytest
import pytest_asyncio
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.common.v1 import money_pb2

from services.billing.__main__ import serve
from services.runtime import bus
from services.runtime.db import connect
from services.runtime.grpcio import channel
from tests.support.held import table_held
from tests.support.wait import async_wait_for


@pytest_asyncio.fixture(scope="module")
async def billing(database_url, amqp_url):
    """A billing server in this process, and a client stub on a real channel to it."""
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            stop, database_url=database_url, amqp_url=amqp_url, bind="127.0.0.1:0", on_ready=ready.set_result
        )
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 20)
    chan = channel(f"127.0.0.1:{port}")
    yield billing_pb2_grpc.BillingStub(chan)
    await chan.close()
    stop.set()
    await task


@pytest_asyncio.fixture(scope="module")
async def posted_events(amqp_url):
    """A queue bound to billing's `ledger_entry_posted` events, as any consumer would bind it."""
    connection = await bus.connect(amqp_url)
    chan = await connection.channel()
    exchange = await bus.declare_events_exchange(chan, "billing")
    queue = await chan.declare_queue(f"test.billing.{uuid.uuid4().hex[:8]}", exclusive=True)
    await queue.bind(exchange, routing_key="ledger_entry_posted")
    yield queue
    await connection.close()


def entry(consumer_id, kind=billing_pb2.ENTRY_KIND_INVOICE, amount=1000, currency="USD", reference="INV-1"):
    return billing_pb2.LedgerEntry(
        consumer_id=consumer_id,
        kind=kind,
        amount=money_pb2.Money(currency=currency, amount_minor=amount),
        reference=reference,
    )


async def post(stub, key, **kw):
    return await stub.PostLedgerEntry(
        billing_pb2.PostLedgerEntryRequest(entry=entry(**kw), idempotency_key=key)
    )


def new_consumer() -> str:
    return str(uuid.uuid4())


async def test_unknown_consumer_has_no_account_and_a_zero_balance(billing):
    consumer = new_consumer()
    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    assert summary.consumer_id == consumer
    assert summary.has_account is False
    assert summary.balance.amount_minor == 0
    assert summary.as_of.seconds > 0


async def test_posted_entries_make_the_balance_and_are_listed_newest_first(billing):
    consumer = new_consumer()
    await post(billing, f"{consumer}-1", consumer_id=consumer, amount=12_500, reference="INV-100")
    await post(
        billing, f"{consumer}-2", consumer_id=consumer, kind=billing_pb2.ENTRY_KIND_PAYMENT, amount=5_000
    )
    await post(billing, f"{consumer}-3", consumer_id=consumer, kind=billing_pb2.ENTRY_KIND_CREDIT, amount=499)

    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    assert summary.has_account is True
    assert (summary.balance.currency, summary.balance.amount_minor) == ("USD", 12_500 - 5_000 - 499)
    assert summary.credit_terms.status == billing_pb2.CREDIT_STATUS_NONE

    listed = await billing.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(consumer_id=consumer, limit=2)
    )
    assert [e.amount.amount_minor for e in listed.entries] == [499, 5_000]
    assert listed.entries[0].kind == billing_pb2.ENTRY_KIND_CREDIT


async def test_posting_twice_with_one_key_posts_once(billing):
    consumer = new_consumer()
    first = await post(billing, f"{consumer}-once", consumer_id=consumer, amount=300)
    again = await post(billing, f"{consumer}-once", consumer_id=consumer, amount=300)
    assert again.id == first.id
    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    assert summary.balance.amount_minor == 300


async def test_concurrent_retries_of_one_request_post_once(billing):
    consumer = new_consumer()
    results = await asyncio.gather(
        *(post(billing, f"{consumer}-race", consumer_id=consumer, amount=900) for _ in range(8))
    )
    assert len({r.id for r in results}) == 1
    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    assert summary.balance.amount_minor == 900


async def test_a_key_reused_for_another_entry_is_refused(billing):
    consumer = new_consumer()
    await post(billing, f"{consumer}-k", consumer_id=consumer, amount=300)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await post(billing, f"{consumer}-k", consumer_id=consumer, amount=301)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"amount": 0}, "positive"),
        ({"amount": -100}, "positive"),
        ({"currency": "XYZ"}, "ISO 4217"),
        ({"kind": billing_pb2.ENTRY_KIND_UNSPECIFIED}, "kind"),
        ({"consumer_id": "'; DROP TABLE account; --"}, "UUID"),
    ],
)
async def test_bad_entries_get_invalid_argument_with_a_reason(billing, overrides, words):
    fields = {"consumer_id": new_consumer(), **overrides}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await post(billing, str(uuid.uuid4()), **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in caught.value.details()


async def test_an_entry_in_another_currency_than_the_account_is_refused(billing):
    consumer = new_consumer()
    await post(billing, f"{consumer}-1", consumer_id=consumer, currency="CAD")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await post(billing, f"{consumer}-2", consumer_id=consumer, currency="USD")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "kept in CAD" in caught.value.details()


async def test_missing_key_and_malformed_ids_are_invalid_arguments(billing):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await post(billing, "", consumer_id=new_consumer())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id="nobody"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_reference_that_looks_like_sql_is_stored_verbatim(billing):
    consumer = new_consumer()
    reference = "INV-1'); DELETE FROM ledger_entry; --"
    await post(billing, f"{consumer}-sql", consumer_id=consumer, reference=reference)
    listed = await billing.ListLedgerEntries(billing_pb2.ListLedgerEntriesRequest(consumer_id=consumer))
    assert [e.reference for e in listed.entries] == [reference]


async def test_credit_terms_come_back_with_the_balance(billing, database_url):
    consumer = new_consumer()
    await post(billing, f"{consumer}-1", consumer_id=consumer, currency="EUR", amount=4_200)
    with connect(database_url, schema="billing") as conn:
        conn.execute(
            "UPDATE account SET credit_limit_minor = 100000, payment_terms = 'Net 45', net_days = 45,"
            " credit_status = 'on_hold' WHERE consumer_id = %s",
            (consumer,),
        )
        conn.commit()
    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    terms = summary.credit_terms
    assert (terms.limit.currency, terms.limit.amount_minor) == ("EUR", 100_000)
    assert (terms.payment_terms, terms.net_days, terms.status) == (
        "Net 45",
        45,
        billing_pb2.CREDIT_STATUS_ON_HOLD,
    )


async def test_a_posted_entry_reaches_the_broker_once_through_the_outbox(billing, posted_events):
    consumer = new_consumer()
    posted = await post(billing, f"{consumer}-evt", consumer_id=consumer, amount=1234, reference="INV-evt")
    await post(billing, f"{consumer}-evt", consumer_id=consumer, amount=1234, reference="INV-evt")

    seen: list[dict] = []

    async def drained_one_for_this_consumer():
        message = await posted_events.get(no_ack=True, fail=False)
        while message is not None:
            seen.append(json.loads(message.body))
            message = await posted_events.get(no_ack=True, fail=False)
        return [e for e in seen if e["data"]["entry"]["consumer_id"] == consumer]

    mine = await async_wait_for(drained_one_for_this_consumer, timeout=10, what="ledger_entry_posted")
    assert len(mine) == 1
    event = mine[0]
    assert event["type"] == "ledger_entry_posted"
    assert event["data"]["entry"]["id"] == posted.id
    assert event["data"]["balance"] == {"currency": "USD", "amount_minor": "1234"}
    # A replay publishes nothing more: give the relay a poll to prove it, then look again.
    await post(billing, f"{consumer}-evt2", consumer_id=consumer, amount=1, reference="marker")
    await async_wait_for(
        lambda: _marker_seen(drained_one_for_this_consumer, seen), timeout=10, what="the marker entry"
    )
    assert len([e for e in seen if e["data"]["entry"]["consumer_id"] == consumer]) == 2


async def _marker_seen(drain, seen) -> bool:
    await drain()
    return any(e["data"]["entry"].get("reference") == "marker" for e in seen)


async def test_different_posts_for_one_consumer_at_once_lose_no_update(billing, database_url):
    consumer = new_consumer()
    await post(billing, f"{consumer}-open", consumer_id=consumer, amount=100, reference="OPEN")
    posts = (
        [dict(kind=billing_pb2.ENTRY_KIND_INVOICE, amount=1500, reference=f"INV-{i}") for i in range(6)]
        + [dict(kind=billing_pb2.ENTRY_KIND_PAYMENT, amount=700, reference=f"PAY-{i}") for i in range(4)]
        + [dict(kind=billing_pb2.ENTRY_KIND_CREDIT, amount=250, reference=f"CR-{i}") for i in range(2)]
    )
    # The account is held while the posts arrive, so that they all reach it together when it is let go.
    with table_held(database_url, "billing.account") as held:
        racing = [
            asyncio.create_task(post(billing, f"{consumer}-{n}", consumer_id=consumer, **kw))
            for n, kw in enumerate(posts)
        ]
        await async_wait_for(
            lambda: asyncio.to_thread(lambda: held.waiting() >= 5), timeout=15, what="several posts waiting"
        )
    await asyncio.gather(*racing)
    summary = await billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=consumer))
    # 100 + 6 x 1500 - 4 x 700 - 2 x 250
    assert (summary.balance.currency, summary.balance.amount_minor) == ("USD", 5800)
    listed = await billing.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(consumer_id=consumer, limit=50)
    )
    assert sorted(e.reference for e in listed.entries) == sorted(["OPEN", *(kw["reference"] for kw in posts)])
