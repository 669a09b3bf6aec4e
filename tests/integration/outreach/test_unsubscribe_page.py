"""Consent as a consumer and an agent meet it, over HTTP: the outreach process and the console as processes,
on real PostgreSQL and RabbitMQ. An agent grants marketing on the consumer page (recorded as theirs); the
one-click link from an email, with no login and no cookie, shows a page on GET that changes nothing, and
on POST (`List-Unsubscribe=One-Click`, RFC 8058) stops marketing at once, while service messages and recall
notices may still go. An altered link gets a 400 page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest_asyncio
from crs.contacts.v1 import contacts_pb2, events_pb2

from services.outreach import unsubscribe
from services.outreach.campaigns import Recipient, decide
from services.outreach.consumers_store import ConsumerStore, Standing
from services.runtime import bus, settings
from services.runtime.db import open_pool
from services.runtime.events import Event
from tests.integration.console.fakes import ADA_ID
from tests.integration.console.stack import start_stack
from tests.support import processes
from tests.support.wait import async_wait_for

SECRET = settings.SECRETS["CRS_OUTREACH_LINK_SECRET"].encode()
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest_asyncio.fixture(scope="module")
async def stack(service_env, database_url, amqp_url, tmp_path_factory):
    port = processes.free_port()
    env = dict(service_env, CRS_OUTREACH_GRPC=f"127.0.0.1:{port}")
    with processes.running(env, [("services.outreach", port)]):
        console = start_stack(env, database_url, amqp_url, tmp_path_factory.mktemp("consent"))
        pool = await open_pool(database_url, schema="outreach", max_size=2)
        try:
            yield await anext(console), ConsumerStore(pool)
        finally:
            await pool.close()
            await console.aclose()


async def known_to_outreach(store: ConsumerStore, amqp_url: str) -> None:
    """Ada as contacts announces her, in French: the page the link opens speaks her language."""
    consumer = contacts_pb2.Consumer(id=ADA_ID, name="Ada Lovelace", language="fr")
    consumer.emails.append(contacts_pb2.Email(address="ada@example.org", type="personal"))
    consumer.updated_at.FromDatetime(datetime.now(UTC))
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "contacts").open()
        await publisher.publish(
            Event.of("contacts", "consumer_created", events_pb2.ConsumerCreated(consumer=consumer))
        )
    finally:
        await connection.close()
    await async_wait_for(lambda: store.of([ADA_ID]), timeout=20, what="Ada in outreach's read model")


def consent_cell(page: str, purpose: str, channel: str) -> tuple[str, str]:
    """(may we write, last changed) of one row of the consumer page's consent table."""
    row = re.search(rf'<tr data-purpose="{purpose}" data-channel="{channel}">(.*?)</tr>', page, re.S)
    assert row, f"no consent row for {purpose} by {channel}"
    granted = re.search(r'data-role="granted">(\w+)<', row.group(1)).group(1)
    changed = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)[2]
    return granted, re.sub(r"<[^>]+>", "", changed)


async def marketing_allowed(store: ConsumerStore) -> bool:
    consented, _ = (await Standing(store).of([ADA_ID], datetime.now(UTC)))[ADA_ID]
    return "marketing" in consented


async def test_an_agent_grants_marketing_and_the_one_click_link_withdraws_it_without_a_login(stack, amqp_url):
    console, store = stack
    await known_to_outreach(store, amqp_url)
    agent = {"Authorization": f"Bearer {await console.token('1001')}"}
    page_url = f"{console.base}/consumers/{ADA_ID}"
    async with aiohttp.ClientSession() as http:
        async with http.get(page_url, headers=agent) as reply:
            assert reply.status == 200
            assert consent_cell(await reply.text(), "marketing", "email") == ("no", "default")
        form = {"purpose": "marketing", "channel": "email", "granted": "yes"}
        async with http.post(f"{page_url}/consent", data=form, headers=agent, allow_redirects=False) as reply:
            assert reply.status == 303, await reply.text()
            assert reply.headers["Location"] == f"/consumers/{ADA_ID}#consent"
        async with http.get(page_url, headers=agent) as reply:
            granted, changed = consent_cell(await reply.text(), "marketing", "email")
        assert (granted, changed.split(" · ")[:2]) == ("yes", ["agent", "ada"])
    assert await marketing_allowed(store)

    token = unsubscribe.sign(SECRET, ADA_ID, "marketing", now=datetime.now(UTC))
    link = f"{console.base}{unsubscribe.PATH}{token}"
    async with aiohttp.ClientSession() as consumer:  # no login, no cookie: a mail client's request
        async with consumer.get(link) as reply:
            assert reply.status == 200
            page = await reply.text()
            assert 'lang="fr"' in page and "Me désabonner" in page
        assert await marketing_allowed(store), "a GET (a mail scanner following the link) changes nothing"

        async with consumer.post(link, data="List-Unsubscribe=One-Click", headers=ONE_CLICK) as reply:
            assert reply.status == 200
            assert 'data-role="unsubscribed"' in await reply.text()
        assert not consumer.cookie_jar, "the page sets no session"

        altered = link.replace(ADA_ID, str(uuid.uuid4()))
        for method in (consumer.get, consumer.post):
            async with method(altered) as reply:
                assert reply.status == 400
                assert "this link was altered" in await reply.text()

    consented, _ = (await Standing(store).of([ADA_ID], datetime.now(UTC)))[ADA_ID]
    assert "marketing" not in consented  # at once: the next sender round sees it
    ada = Recipient(ADA_ID, "ada@example.org", "UTC", consented)
    noon = datetime.now(UTC).replace(hour=12)
    assert decide("marketing", ada, noon).outcome == "suppressed"
    assert decide("recall", ada, noon).outcome == "send"
    assert {"service", "recall"} <= consented

    async with aiohttp.ClientSession() as http, http.get(page_url, headers=agent) as reply:
        granted, changed = consent_cell(await reply.text(), "marketing", "email")
    assert (granted, changed.split(" · ")[:2]) == ("no", ["unsubscribe link", "consumer"])
