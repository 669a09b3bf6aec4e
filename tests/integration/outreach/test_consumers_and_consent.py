"""Outreach's consumer read model and consent on real PostgreSQL and RabbitMQ, with outreach serving in this
process: contacts' consumer events make and update the row (an older redelivery changes nothing, a payload
without a consumer is dropped), erasure removes it, and SetConsent records the agent and publishes
`consent_changed` through the outbox, which the senders' Standing then reflects."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import grpc
import pytest
import pytest_asyncio
from crs.contacts.v1 import contacts_pb2, events_pb2
from crs.outreach.v1 import consent_pb2 as pb
from crs.outreach.v1 import consent_pb2_grpc

from services.outreach.consumers_store import Addresses, ConsumerStore, Standing
from services.runtime import bus
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.support.wait import async_wait_for

ADA = Principal("ada", "agent").metadata()
MO = Principal("mo", "analyst").metadata()


@pytest_asyncio.fixture(scope="module")
async def outreach(outreach_api, amqp_url):
    channel, pool = outreach_api
    connection = await bus.connect(amqp_url)
    try:
        yield consent_pb2_grpc.ConsentStub(channel), ConsumerStore(pool), connection
    finally:
        await connection.close()


def consumer_pb(consumer_id: str, email: str, updated: datetime, **address) -> contacts_pb2.Consumer:
    message = contacts_pb2.Consumer(id=consumer_id, name="Ada Lovelace", language="fr-FR")
    message.emails.append(contacts_pb2.Email(address=email, type="personal"))
    if address:
        message.addresses.append(contacts_pb2.PostalAddress(**address))
    message.updated_at.FromDatetime(updated)
    return message


async def publish(connection, kind: str, payload) -> None:
    publisher = await bus.Publisher(connection, "contacts").open()
    if isinstance(payload, dict):
        await publisher.publish(Event(source="contacts", type=kind, data=payload))
    else:
        await publisher.publish(Event.of("contacts", kind, payload))


async def test_consumer_events_build_the_read_model_and_erasure_removes_the_row(outreach):
    _, store, connection = outreach
    cid = str(uuid.uuid4())
    first, later = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    created = consumer_pb(cid, "ada@example.org", first, region_code="US", administrative_area="CA")
    await publish(connection, "consumer_created", events_pb2.ConsumerCreated(consumer=created))
    reach = await async_wait_for(lambda: _reach(store, cid), timeout=20, what="the consumer row")
    assert (reach.email, reach.language, reach.time_zone) == ("ada@example.org", "fr", "America/Los_Angeles")

    moved = consumer_pb(cid, "ada@example.fr", later, region_code="FR", locality="Lyon")
    await publish(
        connection, "consumer_updated", events_pb2.ConsumerUpdated(consumer=moved, changed_fields=["emails"])
    )
    await publish(connection, "consumer_updated", {"consumer": {"name": "no id"}})  # logged and dropped
    await publish(
        connection, "consumer_created", events_pb2.ConsumerCreated(consumer=created)
    )  # redelivered, older
    marker = str(uuid.uuid4())  # an event after all of them: once it is in, the others were handled
    await publish(
        connection,
        "consumer_created",
        events_pb2.ConsumerCreated(consumer=consumer_pb(marker, "m@x.org", later)),
    )
    await async_wait_for(lambda: _reach(store, marker), timeout=20, what="the marker consumer")
    reach = (await store.of([cid]))[cid]
    assert (reach.email, reach.time_zone) == ("ada@example.fr", "Europe/Paris")
    assert await Addresses(store).of([cid, str(uuid.uuid4())]) == {cid: ("ada@example.fr", "Europe/Paris")}

    assert await store.forget(cid) == {"consumers": 1, "consents": 0}
    assert await store.of([cid]) == {}


async def _reach(store: ConsumerStore, cid: str):
    return (await store.of([cid])).get(cid)


@pytest_asyncio.fixture
async def consent_events(outreach):
    _, _, connection = outreach
    channel = await connection.channel()
    exchange = await bus.declare_events_exchange(channel, "outreach")
    queue = await channel.declare_queue(f"test.outreach.{uuid.uuid4().hex[:8]}", exclusive=True)
    await queue.bind(exchange, routing_key="consent_changed")
    yield queue
    await channel.close()


async def test_set_consent_records_the_agent_and_publishes_consent_changed(outreach, consent_events):
    stub, store, _ = outreach
    cid = str(uuid.uuid4())
    standing = Standing(store)
    before = await standing.of([cid], datetime.now(UTC))
    assert before[cid] == (frozenset({"service", "surveys", "recall"}), 0)  # marketing needs an opt-in

    answer = await stub.SetConsent(
        pb.SetConsentRequest(
            consumer_id=cid, purpose="marketing", channel="email", granted=True, source="import"
        ),
        metadata=ADA,
    )
    marketing = next(e for e in answer.entries if (e.purpose, e.channel) == ("marketing", "email"))
    assert (marketing.granted, marketing.source, marketing.changed_by) == (True, "agent", "ada")
    assert {(e.purpose, e.channel) for e in answer.entries if e.source} == {("marketing", "email")}

    message = await async_wait_for(lambda: consent_events.get(fail=False), timeout=20, what="consent_changed")
    await message.ack()
    data = json.loads(message.body)["data"]
    assert {k: data[k] for k in ("consumer_id", "purpose", "channel", "granted", "source", "changed_by")} == {
        "consumer_id": cid, "purpose": "marketing", "channel": "email", "granted": True, "source": "agent",
        "changed_by": "ada",
    }  # fmt: skip
    assert data["changed_at"].endswith("Z")
    consented, _ = (await standing.of([cid], datetime.now(UTC)))[cid]
    assert "marketing" in consented


async def test_consent_is_refused_to_an_analyst_and_checked_for_what_it_names(outreach):
    stub, _, _ = outreach
    cid = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetConsent(pb.GetConsentRequest(consumer_id=cid), metadata=MO)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for request, named in (
        (pb.SetConsentRequest(consumer_id=cid, purpose="newsletters", channel="email"), "purpose"),
        (pb.SetConsentRequest(consumer_id=cid, purpose="marketing", channel="sms"), "channel"),
        (pb.SetConsentRequest(consumer_id="nobody", purpose="marketing", channel="email"), "consumer_id"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.SetConsent(request, metadata=ADA)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in bad.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as tampered:
        await stub.Unsubscribe(pb.UnsubscribeRequest(token="a.b.c.d.e"))
    assert (tampered.value.code(), tampered.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "this link was altered",
    )
