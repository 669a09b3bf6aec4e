"""In a real browser: the case page's Fulfil form offers a letter "by email" only when the consumer has an
email address, and a letter asked for so is shown as going by email (the stack of
test_fulfillment_browser.py, without channels: the printed letter waits there for it)."""

from __future__ import annotations

import aiohttp
import pytest
from crs.contacts.v1 import contacts_pb2 as cpb
from crs.contacts.v1 import contacts_pb2_grpc

from services.runtime import grpcio
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, log_in
from tests.acceptance.test_fulfillment_browser import own_database, own_vhost, stack, token  # noqa: F401

pytestmark = pytest.mark.browser


async def case_for(stack, *, emails: tuple[str, ...]) -> str:  # noqa: F811
    base, contacts = stack
    async with grpcio.channel(contacts) as channel:
        consumer = await contacts_pb2_grpc.ContactsStub(channel).CreateConsumer(
            cpb.CreateConsumerRequest(
                consumer=cpb.Consumer(
                    name="Jane Doe",
                    emails=[cpb.Email(address=e, type="personal") for e in emails],
                    addresses=[
                        cpb.PostalAddress(
                            region_code="US", address_lines=["12 Elm Street"], postal_code="10001"
                        )
                    ],
                )
            ),
            timeout=5,
        )
    async with aiohttp.ClientSession() as session:
        ada = await token(session, base, "ada", "ada-demo-1001")
        body = {
            "consumer_id": consumer.id,
            "channel": "phone",
            "direction": "inbound",
            "issue_code": "complaint.quality.foreign_object.plastic",
            "verbatim": "A piece of plastic in the oats.",
        }
        headers = {"Authorization": f"Bearer {ada}"}
        async with session.post(f"{base}/api/contacts", json=body, headers=headers) as r:
            assert r.status == 201, await r.text()
            case_id = (await r.json())["id"]
        # The API refuses a letter by email for a consumer without an address, with the reason.
        if not emails:
            letter = {"kind": "letter", "template": "apology", "delivery": "email"}
            async with session.post(
                f"{base}/api/contacts/{case_id}/fulfillments", json=letter, headers=headers
            ) as r:
                assert r.status == 400, await r.text()
                assert "no email address" in await r.text()
        return case_id


async def test_by_email_is_offered_only_to_a_consumer_with_an_address(stack):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    with_address = await case_for(stack, emails=("jane.doe@example.test",))
    without = await case_for(stack, emails=())
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            await agent.goto(f"{base}/cases/view?id={without}")
            await agent.select_option("#fulfil-kind", "letter")
            await expect(agent.locator("#fulfil-delivery option")).to_have_text(["by post"])

            await agent.goto(f"{base}/cases/view?id={with_address}")
            await agent.select_option("#fulfil-kind", "letter")
            choices = agent.locator("#fulfil-delivery option")
            await expect(choices).to_have_text(["by post", "by email to jane.doe@example.test"])
            await agent.select_option("#fulfil-delivery", "email")
            await agent.fill("#fulfil-template", "apology")
            await agent.click("#fulfil")
            await expect(agent.locator("#message")).to_have_text("Letter approved and on its way.")
            letter = agent.locator("#fulfillments tr[data-kind=letter]")
            await expect(letter).to_contain_text("Letter by email")
            # Printed, it waits for channels (not running here) rather than being posted.
            await expect(letter).to_have_attribute("data-state", "in_progress", timeout=30_000)
        finally:
            await browser.close()
