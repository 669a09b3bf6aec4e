"""A parcel's shipment events from fulfillment, through the outreach process and channels, to the mail sink
(real PostgreSQL, RabbitMQ and channels): shipped and delivered, each event delivered twice, are exactly two
emails, in the consumer's language, each with the tracking link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.outreach.consumers_store import ConsumerStore
from services.runtime import bus
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.support.outreach_mail import delivered, outreach_running, shipment, sink_mail
from tests.support.wait import async_wait_for


async def test_a_shipped_and_delivered_parcel_is_two_emails_in_the_consumers_language(mail_path):
    run, consumer, parcel = uuid.uuid4().hex[:8], str(uuid.uuid4()), str(uuid.uuid4())
    known = {
        "consumer": {"id": consumer, "language": "fr-FR", "emails": [{"address": f"zoe-{run}@example.org"}]}
    }
    connection = await bus.connect(mail_path.env["CRS_AMQP_URL"])
    pool = await open_pool(mail_path.database_url, schema="outreach", max_size=2)
    try:
        async with outreach_running(mail_path.env, mail_path.channels, clock=lambda: datetime.now(UTC)):
            contacts = await bus.Publisher(connection, "contacts").open()
            await contacts.publish(Event(source="contacts", type="consumer_created", data=known))
            await async_wait_for(lambda: ConsumerStore(pool).of([consumer]), timeout=20, what="the consumer")
            fulfillment = await bus.Publisher(connection, "fulfillment").open()
            for state, status in (("shipped", "label_created"), ("delivered", "delivered")):
                event = shipment(parcel, consumer, state, status)
                await fulfillment.publish(event)
                await fulfillment.publish(event)  # redelivered: no second email
            mail = await delivered(mail_path.database_url, mail_path.sink, f"shipment:{parcel}", run, 2)
        assert len(sink_mail(mail_path.sink, run)) == 2
        assert {m["Content-Language"] for m in mail} == {"fr"}
        link = f"https://track.demo-carrier.example/parcel/CRS{parcel[:8]}"
        assert all(link in m.get_body(("plain",)).get_content() for m in mail)
        assert "Votre colis est en route" in {m["Subject"] for m in mail}
        assert len({m["Subject"] for m in mail}) == 2  # one for each state
    finally:
        await pool.close()
        await connection.close()
