"""Billing's Privacy API: the consumer's ledger exported, then unlinked with its amounts kept."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest_asyncio
from crs.billing.v1 import billing_pb2, billing_pb2_grpc, privacy_pb2_grpc
from crs.common.v1 import money_pb2
from crs.common.v1 import privacy_pb2 as pb

from services.billing.__main__ import serve
from services.runtime.db import connect
from services.runtime.grpcio import channel


@pytest_asyncio.fixture(scope="module")
async def stubs(database_url, amqp_url):
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            stop, database_url=database_url, amqp_url=amqp_url, bind="127.0.0.1:0", on_ready=ready.set_result
        )
    )
    port = await asyncio.wait_for(asyncio.shield(ready), 20)
    chan = channel(f"127.0.0.1:{port}")
    yield billing_pb2_grpc.BillingStub(chan), privacy_pb2_grpc.PrivacyStub(chan)
    await chan.close()
    stop.set()
    await task


async def post(billing, consumer_id: str, amount: int, reference: str) -> None:
    await billing.PostLedgerEntry(
        billing_pb2.PostLedgerEntryRequest(
            entry=billing_pb2.LedgerEntry(
                consumer_id=consumer_id,
                kind=billing_pb2.ENTRY_KIND_INVOICE,
                amount=money_pb2.Money(currency="USD", amount_minor=amount),
                reference=reference,
            ),
            idempotency_key=str(uuid.uuid4()),
        )
    )


async def test_export_holds_the_ledger_and_erasure_keeps_the_amounts_without_the_consumer(
    stubs, database_url
):
    billing, privacy = stubs
    consumer_id = str(uuid.uuid4())
    await post(billing, consumer_id, 1250, "INV-PRIV-1")
    await post(billing, consumer_id, 750, "INV-PRIV-2")
    keys = pb.ConsumerKeys(consumer_id=consumer_id)

    exported = await privacy.ExportConsumer(pb.ExportConsumerRequest(consumer=keys))
    data = json.loads(exported.data_json)
    assert exported.service == "billing"
    assert sorted(e["reference"] for e in data["ledger_entries"]) == ["INV-PRIV-1", "INV-PRIV-2"]
    assert data["account"]["balance_minor"] == 2000

    erasure_id = str(uuid.uuid4())
    erased = await privacy.EraseConsumer(pb.EraseConsumerRequest(consumer=keys, erasure_id=erasure_id))
    # Whether the relay had published the two events yet is a race: only the ledger's counts are known.
    assert (erased.erased["accounts_unlinked"], erased.erased["ledger_entries_unlinked"]) == (1, 2)
    again = await privacy.EraseConsumer(pb.EraseConsumerRequest(consumer=keys, erasure_id=erasure_id))
    assert dict(again.erased) == dict(erased.erased) and again.erased_at == erased.erased_at

    after = json.loads((await privacy.ExportConsumer(pb.ExportConsumerRequest(consumer=keys))).data_json)
    assert after == {"account": None, "ledger_entries": []}
    with connect(database_url, schema="billing") as conn:
        rows = conn.execute(
            "SELECT amount_minor, consumer_id::text FROM ledger_entry WHERE reference LIKE 'INV-PRIV-%'"
            " ORDER BY amount_minor"
        ).fetchall()
    assert [r[0] for r in rows] == [750, 1250]
    assert all(r[1] != consumer_id for r in rows) and rows[0][1] == rows[1][1]
