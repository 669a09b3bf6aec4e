"""telephony's call_ended, consumed from a real broker, becomes a contact with a signed recording link."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import aio_pika
import aiohttp
from crs.contacts.v1 import contacts_pb2 as pb
from crs.telephony.v1 import events_pb2 as telephony

from services.runtime import bus
from services.runtime.events import Event
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for


async def publish_call_ended(amqp_url, *, number, withheld=False, recording_key="", seconds=42.0):
    call_id = str(uuid.uuid4())
    message = telephony.CallEnded(
        call_id=call_id,
        extension="1001",
        caller=telephony.Caller(number=number, withheld=withheld),
        reason=telephony.END_REASON_CALLER_HUNG_UP,
        duration_seconds=seconds,
        recording_key=recording_key,
    )
    message.started_at.GetCurrentTime()
    connection = await aio_pika.connect(amqp_url)
    publisher = await bus.Publisher(connection, "telephony").open()
    event = Event.of("telephony", "call_ended", message, correlation_id=call_id)
    await publisher.publish(event)
    await publisher.publish(event)  # a redelivery must not file the call twice
    await connection.close()
    return call_id


async def recent(contacts, consumer_id):
    response = await contacts.stub.ListRecentContacts(pb.ListRecentContactsRequest(consumer_id=consumer_id))
    return list(response.contacts)


async def test_a_recorded_call_lands_on_the_consumer_with_a_link_that_plays_it(contacts, amqp_url):
    consumer = await create(contacts, "Caller With Recording", "+1 614 555 0860")
    key = f"2026/11/23/{uuid.uuid4()}.wav"
    audio = b"RIFF....WAVEfmt recorded audio"
    contacts.recordings.put(key, audio)
    call_id = await publish_call_ended(amqp_url, number="+16145550860", recording_key=key)

    filed = await async_wait_for(lambda: recent(contacts, consumer.id), timeout=20, what="the call contact")
    assert len(filed) == 1
    (contact,) = filed
    assert (contact.call_id, contact.channel, contact.duration_seconds) == (call_id, "phone", 42.0)
    link = contact.recording_url
    assert link.startswith(contacts.http_url + "/recordings/") and "signature=" in link
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as response:
            assert response.status == 200
            assert response.content_type == "audio/wav"
            assert await response.read() == audio
        tampered = link.replace(key, key.replace(".wav", "x.wav"))
        async with http.get(tampered) as response:
            assert response.status == 403
        query = parse_qs(urlsplit(link).query)
        expired = f"{contacts.http_url}/recordings/{key}?expires={int(time.time()) - 1}&signature={query['signature'][0]}"
        async with http.get(expired) as response:
            assert response.status == 403


async def test_an_unknown_caller_is_filed_under_an_unidentified_caller_by_number(
    contacts, amqp_url, database_url
):
    import psycopg

    call_id = await publish_call_ended(amqp_url, number="+16145550861")

    def filed() -> bool:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT u.number_key FROM contacts.contact c JOIN contacts.unidentified_caller u"
                " ON u.id = c.unidentified_caller_id WHERE c.call_id = %s",
                (call_id,),
            ).fetchone()
        return row and row[0]

    async def check():
        return filed()

    assert await async_wait_for(check, timeout=20, what="the unidentified caller's contact") == "+16145550861"
