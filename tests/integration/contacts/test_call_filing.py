"""telephony's call_ended, consumed from a real broker, is filed as an uncoded contact with its recording."""

from __future__ import annotations

import json
import uuid

import aio_pika
import psycopg
from crs.contacts.v1 import casework_pb2
from crs.contacts.v1 import contacts_pb2 as pb
from crs.telephony.v1 import events_pb2 as telephony
from prometheus_client import REGISTRY

from services.runtime import bus
from services.runtime.events import Event
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for

CALL_ENDED_QUEUE = "contacts.telephony.call_ended"


def handled() -> float:
    """call_ended deliveries this process has handled and acked so far."""
    return (
        REGISTRY.get_sample_value(
            "crs_events_consumed_total", {"queue": CALL_ENDED_QUEUE, "outcome": "handled"}
        )
        or 0.0
    )


def call_ended(*, number, withheld=False, recording_key="", seconds=42.0, started_at=None) -> Event:
    call_id = str(uuid.uuid4())
    message = telephony.CallEnded(
        call_id=call_id,
        extension="1001",
        caller=telephony.Caller(number=number, withheld=withheld),
        reason=telephony.END_REASON_CALLER_HUNG_UP,
        duration_seconds=seconds,
        recording_key=recording_key,
    )
    if started_at is None:
        message.started_at.GetCurrentTime()
    else:
        message.started_at.FromDatetime(started_at)
    return Event.of("telephony", "call_ended", message, correlation_id=call_id)


async def publish(amqp_url, event: Event) -> str:
    connection = await aio_pika.connect(amqp_url)
    publisher = await bus.Publisher(connection, "telephony").open()
    await publisher.publish(event)
    await connection.close()
    return event.correlation_id


async def recent(contacts, consumer_id):
    response = await contacts.stub.ListRecentContacts(pb.ListRecentContactsRequest(consumer_id=consumer_id))
    return list(response.contacts)


async def attached_events(amqp_url):
    """A queue bound to contacts' call_contact_attached, and a way to read what arrived on it."""
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange("contacts.events", aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "call_contact_attached")
    return connection, queue


async def test_a_recorded_call_lands_on_the_consumer_with_its_recording_and_no_bearer_link(
    contacts, amqp_url, agent
):
    consumer = await create(contacts, "Caller With Recording", "+1 614 555 0860")
    key = f"2026/11/23/{uuid.uuid4()}.wav"
    call_id = await publish(amqp_url, call_ended(number="+16145550860", recording_key=key))

    filed = await async_wait_for(lambda: recent(contacts, consumer.id), timeout=20, what="the call contact")
    (contact,) = filed
    assert (contact.call_id, contact.channel, contact.duration_seconds) == (call_id, "phone", 42.0)
    assert contact.has_recording is True
    # The key is for the console, which plays it to a session that may hear it; no API hands out a link.
    assert "recording_url" not in pb.ContactSummary.DESCRIPTOR.fields_by_name
    call = await agent.GetCall(casework_pb2.GetCallRequest(call_id=call_id))
    assert call.recording_key == key


async def test_a_duplicate_call_ended_arriving_after_the_filing_files_nothing_more(contacts, amqp_url):
    consumer = await create(contacts, "Twice Delivered", "+1 614 555 0862")
    connection, attached = await attached_events(amqp_url)
    try:
        event = call_ended(number="+16145550862")
        await publish(amqp_url, event)
        await async_wait_for(lambda: recent(contacts, consumer.id), timeout=20, what="the first filing")
        before = handled()
        await publish(amqp_url, event)  # the same event again: a redelivery, after the first was filed
        await async_wait_for(lambda: _gt(handled, before), timeout=20, what="the duplicate to be handled")
        # Events leave the outbox in commit order: once the marker's arrives, a duplicate's would have too.
        marker = await publish(amqp_url, call_ended(number="+16145550862"))
        seen: list[str] = []

        async def marker_arrived():
            message = await attached.get(fail=False)
            if message:
                await message.ack()
                seen.append(json.loads(message.body)["data"]["call_id"])
            return marker in seen

        await async_wait_for(marker_arrived, timeout=20, what="the marker call's call_contact_attached")
        assert seen.count(event.correlation_id) == 1
        assert sorted(c.call_id for c in await recent(contacts, consumer.id)) == sorted(
            [event.correlation_id, marker]
        )
    finally:
        await connection.close()


async def _gt(read, value):
    return read() > value


async def test_an_unknown_caller_is_filed_under_an_unidentified_caller_by_number(
    contacts, amqp_url, database_url
):
    call_id = await publish(amqp_url, call_ended(number="+16145550861"))

    async def filed():
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT u.number_key FROM contacts.contact c JOIN contacts.unidentified_caller u"
                " ON u.id = c.unidentified_caller_id WHERE c.call_id = %s",
                (call_id,),
            ).fetchone()
        return row and row[0]

    assert await async_wait_for(filed, timeout=20, what="the unidentified caller's contact") == "+16145550861"


async def test_a_case_captured_during_the_call_takes_over_the_filed_call_and_its_recording(
    contacts, amqp_url, agent
):
    consumer = await create(contacts, "Caller Who Complains", "+1 614 555 0863")
    key = f"2026/11/24/{uuid.uuid4()}.wav"
    call_id = await publish(amqp_url, call_ended(number="+16145550863", recording_key=key, seconds=61.5))
    await async_wait_for(lambda: recent(contacts, consumer.id), timeout=20, what="the filed call")

    case = await agent.capture(consumer_id=consumer.id, call_id=call_id)
    assert list(case.call_ids) == [call_id]
    call = await agent.GetCall(casework_pb2.GetCallRequest(call_id=call_id))
    assert (call.consumer_id, call.caller_number, call.recording_key) == (consumer.id, "+16145550863", key)
    assert call.duration_seconds == 61.5
    assert round((call.ended_at.ToDatetime() - call.started_at.ToDatetime()).total_seconds(), 1) == 61.5
    assert list(call.case_ids) == [case.id]
    assert [c.id for c in await recent(contacts, consumer.id)] == [case.id]  # one contact, now coded


async def test_a_call_filed_after_its_case_is_linked_to_it(contacts, amqp_url, agent):
    consumer = await create(contacts, "Caller Captured First", "+1 614 555 0864")
    event = call_ended(number="+16145550864", recording_key="2026/11/24/late.wav")
    case = await agent.capture(consumer_id=consumer.id, call_id=event.correlation_id)
    assert list(case.call_ids) == [event.correlation_id]
    await publish(amqp_url, event)

    async def filed():
        try:
            return await agent.GetCall(casework_pb2.GetCallRequest(call_id=event.correlation_id))
        except Exception:
            return None

    call = await async_wait_for(filed, timeout=20, what="the call filed after its case")
    assert list(call.case_ids) == [case.id] and call.recording_key == "2026/11/24/late.wav"
    other = await agent.capture(consumer_id=consumer.id)
    linked = await agent.LinkCall(casework_pb2.LinkCallRequest(id=other.id, call_id=event.correlation_id))
    assert list(linked.call_ids) == [event.correlation_id]
    call = await agent.GetCall(casework_pb2.GetCallRequest(call_id=event.correlation_id))
    assert sorted(call.case_ids) == sorted([case.id, other.id])
    missing = await agent.refused("GetCall", casework_pb2.GetCallRequest(call_id="never-filed"))
    assert missing.code().name == "NOT_FOUND"
