"""In Chromium, against the console with the knowledge service's own logic behind it: the capture form
beside the pop shows suggested codes and articles for a typed verbatim, and the agent's pick fills the
code; an agent searches the knowledge base; a supervisor reviews and publishes a draft."""

from __future__ import annotations

import pytest

from tests.integration.console.fakes import ADA_NUMBER

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PLASTIC = "complaint.quality.foreign_object.plastic"


async def log_in(browser, base: str, username: str, password: str):
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{base}/login")
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', password)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{base}/")
    return page


async def test_codes_and_articles_are_suggested_for_a_typed_verbatim_and_the_agent_picks(console):
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ada = await log_in(browser, console.base, "ada", "ada-demo-1001")
            await expect(ada.locator("#status")).to_have_text("Connected", timeout=10_000)
            call_id = await console.ring(extension="1001", number=ADA_NUMBER)
            await ada.locator('[data-role="capture-contact"]').click(timeout=15_000)
            await expect(ada.locator("#capture-panel")).to_be_visible()
            await expect(ada.locator("#capture-assist")).to_be_hidden()
            await ada.fill("#capture-verbatim", "il y avait du plastique dans ma boîte")
            suggested = ada.locator("#capture-suggested-codes button")
            await expect(suggested.first).to_be_visible(timeout=10_000)
            await expect(
                ada.locator(f'#capture-suggested-codes button[data-code="{PLASTIC}"]')
            ).to_contain_text("Foreign object\u203a Plastic")
            assert await suggested.count() == 3
            # Nothing is coded until the agent picks.
            await expect(ada.locator("#capture-issue")).to_have_value("")
            await ada.locator(f'#capture-suggested-codes button[data-code="{PLASTIC}"]').click()
            await expect(ada.locator("#capture-issue")).to_have_value(PLASTIC)
            await expect(ada.locator("#capture-articles li").first).to_be_visible()
            await console.end(extension="1001", call_id=call_id)

            await ada.goto(f"{console.base}/knowledge/")
            await ada.fill("#kb-q", "are the oats ok for coeliacs")
            await ada.click("#kb-search")
            await expect(ada.locator("#kb-results li").first).to_have_attribute(
                "data-article", "oats-ingredients"
            )
            await expect(ada.locator('nav a[href="/knowledge/review"]')).to_have_count(0)
        finally:
            await browser.close()


async def test_a_supervisor_reviews_then_publishes_a_draft_in_the_browser(console):
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, console.base, "sam", "sam-demo-super")
            await sam.click('nav a[href="/knowledge/review"]')
            row = sam.locator('tr[data-article="gift-boxes.en"]')
            await expect(row).to_contain_text("draft")
            await row.get_by_role("button", name="Mark reviewed").click()
            await expect(row.locator("td").nth(5)).to_have_text("reviewed")
            await sam.reload()
            await row.get_by_role("button", name="Publish").click()
            await expect(row.locator("td").nth(5)).to_have_text("published")
            # Sam's own draft: the service refuses, and the page says why.
            own = sam.locator('tr[data-article="coffee-descaling.en"]')
            await own.get_by_role("button", name="Mark reviewed").click()
            await expect(sam.locator("#message")).to_contain_text("someone other than its author")
        finally:
            await browser.close()


async def test_a_supervisor_opens_the_automated_answers_from_the_bar_and_sees_the_threshold(console):
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, console.base, "sam", "sam-demo-super")
            await sam.click('nav a[href="/knowledge/answers"]')
            await expect(sam.locator("#kb-threshold")).to_have_text("0.8")
            await expect(sam.locator("#kb-threshold-changed")).to_contain_text("set by")
            await expect(sam.locator("#kb-outcomes")).to_contain_text("No automated answers")
            await expect(sam.locator("#kb-threshold-form")).to_have_count(0)
        finally:
            await browser.close()
