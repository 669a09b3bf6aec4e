"""A real service process logs JSON lines that carry the correlation id of the work in hand."""

from __future__ import annotations

import json
import uuid

import aio_pika
import pytest
from crs.telephony.v1 import events_pb2

from services.runtime import bus
from services.runtime.events import Event
from tests.support import infra
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import async_wait_for, wait_for


@pytest.fixture(scope="module")
def own_vhost():
    """A vhost of its own: in the session's, another contacts consumer of this run could take the event."""
    with infra.own_vhost("crs-logs") as url:
        yield url


@pytest.fixture(scope="module")
def contacts(service_env, own_vhost):
    port = free_port()
    env = dict(
        service_env,
        CRS_AMQP_URL=own_vhost,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{port}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}",
    )
    service = ServiceProcess("services.contacts", env).start(wait_port=port)
    yield service
    service.stop()


async def consuming(connection, queue: str) -> bool:
    channel = await connection.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
    except aio_pika.exceptions.ChannelClosed:
        return False  # not declared yet
    consumers = declared.declaration_result.consumer_count
    await channel.close()
    return consumers > 0


async def publish_call_ended(amqp_url: str, event: Event) -> None:
    connection = await bus.connect(amqp_url)
    try:
        await async_wait_for(
            lambda: consuming(connection, "contacts.telephony.call_ended"),
            timeout=20,
            what="contacts to consume",
        )
        await (await bus.Publisher(connection, "telephony").open()).publish(event)
    finally:
        await connection.close()


def lines_with(service: ServiceProcess, correlation_id: str) -> list[dict]:
    found = []
    for line in service.output().splitlines():
        if correlation_id in line:
            found.append(json.loads(line))  # a line that is not JSON fails here
    return found


async def test_filing_a_call_from_the_bus_logs_json_with_the_calls_correlation_id(contacts, own_vhost):
    call_id = f"log-{uuid.uuid4().hex[:10]}"
    ended = events_pb2.CallEnded(
        call_id=call_id,
        extension="1001",
        caller=events_pb2.Caller(number="+14155550199", raw="sip:+14155550199@pbx.example"),
        reason=events_pb2.END_REASON_COMPLETED,
        duration_seconds=12.5,
    )
    await publish_call_ended(own_vhost, Event.of("telephony", "call_ended", ended, correlation_id=call_id))
    [line] = wait_for(lambda: lines_with(contacts, call_id), timeout=20, what="contacts to log the filing")
    assert line["service"] == "contacts"
    assert line["level"] == "info"
    assert line["correlation_id"] == call_id
    assert line["msg"].startswith("call filed as contact ")
    assert "4155550199" not in contacts.output()  # the caller's number is never written whole


async def test_a_failing_handler_logs_the_failure_with_the_correlation_id(contacts, own_vhost):
    call_id = f"bad-{uuid.uuid4().hex[:10]}"
    garbled = Event(
        "telephony", "call_ended", {"call_id": call_id, "duration_seconds": "long"}, correlation_id=call_id
    )
    await publish_call_ended(own_vhost, garbled)
    lines = wait_for(lambda: lines_with(contacts, call_id), timeout=20, what="contacts to log the failure")
    assert lines[0]["level"] == "error"
    assert lines[0]["correlation_id"] == call_id
    assert lines[0]["msg"].startswith("handler for contacts.telephony.call_ended failed on event ")
