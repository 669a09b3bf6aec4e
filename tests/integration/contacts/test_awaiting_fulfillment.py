"""Awaiting fulfillment over the real broker and contacts process: fulfillment's fulfillment_<state> events
move the case into awaiting fulfillment and back when the last one ends, once each however often an event
arrives and whatever order they come in; the queue and search find the cases that wait."""

from __future__ import annotations

import uuid

import aio_pika
from crs.contacts.v1 import casework_pb2 as pb
from crs.fulfillment.v1 import fulfillment_pb2
from prometheus_client import REGISTRY

from services.runtime import bus
from services.runtime.events import Event
from tests.integration.contacts.case_support import ids
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for


def changed(case_id: str, fulfillment_id: str, state: str, kind: str = "coupon") -> Event:
    message = fulfillment_pb2.FulfillmentChanged(
        fulfillment_id=fulfillment_id, case_id=case_id, kind=kind, state=state, actor="alice"
    )
    return Event.of("fulfillment", f"fulfillment_{state}", message, correlation_id=case_id)


async def publish(amqp_url: str, *events: Event) -> None:
    connection = await aio_pika.connect(amqp_url)
    publisher = await bus.Publisher(connection, "fulfillment").open()
    for event in events:
        await publisher.publish(event)
    await connection.close()


def handled(state: str) -> float:
    """How many fulfillment_<state> events the contacts process has handled and acknowledged."""
    queue = f"contacts.fulfillment.fulfillment_{state}"
    return (
        REGISTRY.get_sample_value("crs_events_consumed_total", {"queue": queue, "outcome": "handled"}) or 0.0
    )


async def until_handled(state: str, count: float) -> None:
    async def done():
        return handled(state) >= count

    await async_wait_for(done, timeout=20, what=f"{count:.0f} fulfillment_{state} handled")


async def in_status(caller, case_id: str, status: str) -> pb.Case:
    async def check():
        case = await caller.GetCase(pb.GetCaseRequest(id=case_id))
        return case if case.status == status else None

    return await async_wait_for(check, timeout=20, what=f"case {case_id} {status}")


def status_moves(timeline: pb.Timeline) -> list[tuple[str, str]]:
    return [
        (e.actor, next(c.after for c in e.changes if c.field == "status"))
        for e in timeline.events
        if e.kind == "status"
    ]


async def test_the_case_awaits_its_fulfillments_and_comes_back_once_each(
    contacts, amqp_url, agent, supervisor
):
    consumer = await create(contacts, "Waits For A Coupon", "+1 614 555 0880")
    case = await agent.capture(consumer_id=consumer.id)
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="referred_qa", note="to QA"))
    coupon, refund = str(uuid.uuid4()), str(uuid.uuid4())

    requested = changed(case.id, coupon, "requested")
    await publish(amqp_url, requested)
    waiting = await in_status(agent, case.id, "awaiting_fulfillment")
    assert [(f.fulfillment_id, f.kind, f.state) for f in waiting.open_fulfillments] == [
        (coupon, "coupon", "requested")
    ]

    # Redelivered, and a refund whose delivery overtook its request: neither holds the case.
    before, delivered = handled("requested"), handled("delivered")
    await publish(amqp_url, changed(case.id, refund, "delivered", kind="refund"))
    await until_handled("delivered", delivered + 1)
    await publish(amqp_url, requested, changed(case.id, refund, "requested", kind="refund"))
    await until_handled("requested", before + 2)
    still = await agent.GetCase(pb.GetCaseRequest(id=case.id))
    assert [f.fulfillment_id for f in still.open_fulfillments] == [coupon]
    assert still.version == waiting.version

    # The agent may not resolve over the open coupon; the supervisors' queue and search find it waiting.
    refused = await agent.refused(
        "ChangeStatus", pb.ChangeStatusRequest(id=case.id, status="resolved", note="")
    )
    assert refused.code().name == "PERMISSION_DENIED"
    assert "still owed a coupon (requested)" in refused.details()
    await agent.Escalate(pb.EscalateRequest(id=case.id, reason="goodwill above the usual"))
    queued = await supervisor.GetQueue(pb.GetQueueRequest(status="awaiting_fulfillment", limit=200))
    assert case.id in ids(queued)
    assert all(c.status == "awaiting_fulfillment" for c in queued.cases)
    assert case.id not in ids(await supervisor.GetQueue(pb.GetQueueRequest(status="referred_qa", limit=200)))
    found = await agent.SearchCases(
        pb.SearchCasesRequest(consumer_id=consumer.id, status="awaiting_fulfillment")
    )
    assert ids(found) == [case.id]

    await publish(amqp_url, changed(case.id, coupon, "approved"), changed(case.id, coupon, "delivered"))
    back = await in_status(agent, case.id, "referred_qa")
    assert list(back.open_fulfillments) == []
    assert case.id not in ids(
        await supervisor.GetQueue(pb.GetQueueRequest(status="awaiting_fulfillment", limit=200))
    )
    timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))
    assert status_moves(timeline) == [
        ("alice", '"referred_qa"'),
        ("system", '"awaiting_fulfillment"'),
        ("system", '"referred_qa"'),
    ]
    notes = [e.note for e in timeline.events if e.kind == "status" and e.actor == "system"]
    assert notes == [
        "Waiting on the coupon (requested, alice)",
        "No fulfillment open any more: the coupon (delivered, alice)",
    ]


async def test_an_event_for_no_case_or_a_malformed_one_is_dropped_and_the_next_is_heard(
    contacts, amqp_url, agent
):
    case = await agent.capture()
    before = handled("requested")
    await publish(
        amqp_url,
        changed(str(uuid.uuid4()), str(uuid.uuid4()), "requested"),  # no such case
        changed(case.id, "not-an-id", "requested"),
    )
    await until_handled("requested", before + 2)
    await publish(amqp_url, changed(case.id, str(uuid.uuid4()), "requested", kind="letter"))
    waiting = await in_status(agent, case.id, "awaiting_fulfillment")
    assert [f.kind for f in waiting.open_fulfillments] == ["letter"]
