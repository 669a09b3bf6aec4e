"""The recall's own queue over the real broker and contacts process: insights' recall_opened routes the open
cases about the recalled product and lots already on file to the recall's queue, a case captured about them
afterwards goes there too, one about another lot does not, a corrected lot takes a case out, and once
recall_closed is heard no new case goes there while the ones it holds stay."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import aio_pika
from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf import field_mask_pb2

from services.insights import convert
from services.insights.domain import recalls
from services.runtime import bus
from tests.integration.contacts.case_support import ids
from tests.support.wait import async_wait_for


def a_recall(sku: str) -> recalls.Recall:
    return recalls.open_recall(
        sku=sku, lot_codes=["L3"], regions=[], title=f"{sku} lot L3", script=["Stop using it."],
        consumer_message="Do not use lot L3.", opened_by="sam", now=datetime.now(UTC),
    )  # fmt: skip


async def announce(amqp_url: str, recall: recalls.Recall) -> None:
    connection = await aio_pika.connect(amqp_url)
    publisher = await bus.Publisher(connection, "insights").open()
    await publisher.publish(convert.recall_event(recall))
    await connection.close()


async def queue_of(supervisor, recall_id: str) -> list[str]:
    return ids(await supervisor.GetRecallQueue(pb.GetRecallQueueRequest(recall_id=recall_id)))


async def until_queue(supervisor, recall_id: str, wanted: set[str]) -> list[str]:
    async def holds():
        found = await queue_of(supervisor, recall_id)
        return found if set(found) == wanted else None

    return await async_wait_for(holds, timeout=20, what=f"the recall's queue holding {len(wanted)} cases")


async def test_cases_about_the_recalled_lot_go_to_the_recall_queue(contacts, amqp_url, agent, supervisor):
    sku = f"OAT-{uuid.uuid4().hex[:8]}"
    before = await agent.capture(product=pb.Product(sku=sku, lot_code="L3"))
    other_lot = await agent.capture(product=pb.Product(sku=sku, lot_code="L1"))
    recall = a_recall(sku)
    await announce(amqp_url, recall)
    await until_queue(supervisor, recall.id, {before.id})

    after = await agent.capture(product=pb.Product(sku=sku, lot_code="L3"))
    no_lot_yet = await agent.capture(product=pb.Product(sku=sku))
    other_product = await agent.capture(product=pb.Product(sku=f"{sku}-X", lot_code="L3"))
    found = await queue_of(supervisor, recall.id)
    assert set(found) == {before.id, after.id, no_lot_yet.id}
    assert other_lot.id not in found and other_product.id not in found

    corrected = pb.Case(id=after.id, product=pb.Product(sku=sku, lot_code="L1"))
    mask = field_mask_pb2.FieldMask(paths=["product"])
    await agent.UpdateCase(pb.UpdateCaseRequest(case=corrected, update_mask=mask))
    assert set(await queue_of(supervisor, recall.id)) == {before.id, no_lot_yet.id}

    await announce(amqp_url, replace(recall, status="closed", closed_by="sam", closed_at=datetime.now(UTC),
                                     close_reason="stock withdrawn"))  # fmt: skip

    async def closed_heard():
        late = await agent.capture(product=pb.Product(sku=sku, lot_code="L3"))
        return late if late.id not in await queue_of(supervisor, recall.id) else None

    await async_wait_for(closed_heard, timeout=20, what="a case after the close staying out of the queue")
    assert set(await queue_of(supervisor, recall.id)) == {before.id, no_lot_yet.id}

    refused = await agent.refused("GetRecallQueue", pb.GetRecallQueueRequest(recall_id=recall.id))
    assert refused.code().name == "PERMISSION_DENIED"
