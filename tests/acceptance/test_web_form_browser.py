"""The public web form in Chromium: a consumer types a question and sees the article that answers it
appear under the form; saying it answered them sends nothing and counts one deflection. Safety wording
shows no article. Channels, the contacts service and knowledge's servicer are real (the integration
module's fixtures)."""

from __future__ import annotations

import pytest_asyncio

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM
from tests.integration.channels.test_web_form import (  # noqa: F401  (the fixtures)
    WHERE_TO_BUY,
    form_url,
    knowledge_target,
    running_channels,
    tally,
)
from tests.integration.contacts.conftest import contacts  # noqa: F401  (the fixture)
from tests.support import infra


@pytest_asyncio.fixture(scope="module")
async def channels_ports(contacts, knowledge_target):  # noqa: F811
    # A database of its own: channels keys what it suggested on knowledge's answer ids, and this module's
    # knowledge server numbers its answers from 1 again.
    with infra.migrated_database("crs_webform_browser") as url:
        async with running_channels(
            url, f"127.0.0.1:{contacts.bound.grpc_port}", knowledge_target[0]
        ) as ports:
            yield ports


async def test_typing_a_question_shows_its_article_and_a_deflection_is_counted(form_url, channels_ports):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    before = await tally(channels_ports)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(form_url + "/intake")
            await page.locator("#message").press_sequentially(WHERE_TO_BUY)
            first = page.locator("#suggestions .suggestion").first
            await expect(first.locator(".title")).to_have_text(
                "Where to buy Golden Rolled Oats and the 500 g oat clusters"
            )
            assert await page.locator("#answer_id").input_value() != ""
            await first.locator(".title").click()
            await expect(first.locator(".body")).to_be_visible()
            await first.get_by_role("button", name="This answered my question").click()
            await expect(page.locator("#answered")).to_contain_text("Nothing was sent")

            await page.goto(form_url + "/intake")
            await page.locator("#message").press_sequentially("my child got sick after eating it")
            await expect(page.locator("#suggestions")).to_contain_text("Please send us the form")
            assert await page.locator("#suggestions .suggestion").count() == 0
        finally:
            await browser.close()
    after = await tally(channels_ports)
    assert after.deflected == before.deflected + 1
