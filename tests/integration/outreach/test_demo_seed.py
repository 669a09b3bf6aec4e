"""`crs seed --demo` for outreach, then the demo as `make run` shows it (real PostgreSQL, RabbitMQ, channels
and its mail sink, on an injected clock): the demo consumers are in outreach's read model with their address
and language, a resolved demo complaint is a CSAT survey in the sink two minutes later, and a demo parcel's
shipment events are notices there in the consumer's language. Seeding again changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from services.cli.seed import DEMO_CONSUMERS, consumer_id
from services.outreach import seed
from services.outreach.consumers_store import ConsumerStore
from services.outreach.survey_store import SurveyStore
from services.runtime import bus
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.support.outreach_mail import all_mail, outreach_running, shipment
from tests.support.survey_harness import Clock
from tests.support.wait import async_wait_for

JANE, AMELIE = consumer_id(0), consumer_id(5)  # contacts' demo list: Jane Doe (en), Amélie Laurent (fr)


async def test_the_demo_consumers_get_a_csat_survey_and_shipping_notices_in_the_sink(mail_path):
    ids = [consumer_id(i) for i in range(DEMO_CONSUMERS)]
    # The seed is `crs seed`'s, a command of its own event loop.
    await asyncio.to_thread(seed.seed_demo, mail_path.database_url, ids)
    await asyncio.to_thread(seed.seed_demo, mail_path.database_url, ids)
    pool = await open_pool(mail_path.database_url, schema="outreach", max_size=2)
    connection = await bus.connect(mail_path.env["CRS_AMQP_URL"])
    clock = Clock(datetime.now(UTC))
    try:
        reach = await ConsumerStore(pool).of([JANE, AMELIE])
        assert (reach[JANE].email, reach[JANE].language) == ("jane.doe@example.com", "en")
        assert (reach[AMELIE].email, reach[AMELIE].language) == ("amelie.laurent@example.fr", "fr")
        # Her demo address in Lyon, as contacts holds it, places her: quiet hours are Paris's.
        assert reach[AMELIE].time_zone == "Europe/Paris"
        assert [r.id for r in await SurveyStore(pool).rules()].count(seed.DEMO_RULE.id) == 1

        env = dict(mail_path.env, CRS_OUTREACH_SURVEY_SWEEP_SECONDS="0.2")
        async with outreach_running(env, mail_path.channels, clock=clock):
            case = {"id": str(uuid.uuid4()), "consumer_id": JANE, "issue_code": "complaint.foreign_body",
                    "language": "en", "team": "care", "assignee": "ada", "channel": "phone"}  # fmt: skip
            contacts = await bus.Publisher(connection, "contacts").open()
            await contacts.publish(Event(source="contacts", type="contact_resolved", data={"case": case}))
            await async_wait_for(
                lambda: SurveyStore(pool).survey_id_for(f"survey:{seed.DEMO_RULE.id}:{case['id']}"),
                timeout=20,
                what="the demo complaint's survey planned",
            )
            clock.advance(timedelta(minutes=3))
            parcel = str(uuid.uuid4())
            fulfillment = await bus.Publisher(connection, "fulfillment").open()
            for state, status in (("shipped", "label_created"), ("delivered", "delivered")):
                await fulfillment.publish(shipment(parcel, AMELIE, state, status))

            async def both():
                mail = all_mail(mail_path.sink)
                survey = [m for m in mail if m["To"] == "jane.doe@example.com"]
                notices = [m for m in mail if m["To"] == "amelie.laurent@example.fr"]
                return (survey, notices) if survey and len(notices) == 2 else None

            survey, notices = await async_wait_for(both, timeout=30, what="the survey and the notices")
        assert [m["Subject"] for m in survey] == ["How did we do? One click tells us"]
        assert {m["Content-Language"] for m in notices} == {"fr"}
    finally:
        await connection.close()
        await pool.close()
