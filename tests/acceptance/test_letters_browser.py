"""A scanned letter in Chromium: ada uploads it on the Letters page, corrects the OCR draft and opens the
case; the case page shows the verbatim and the scan, and offers the reply as a fulfillment letter."""

from __future__ import annotations

import pytest

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, log_in
from tests.integration.channels.test_letters import FRENCH, channels, console, scan_of  # noqa: F401
from tests.integration.contacts.conftest import contacts  # noqa: F401

pytestmark = pytest.mark.browser


async def test_ada_turns_a_scanned_letter_into_a_case_in_the_browser(console, tmp_path):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    scan = tmp_path / "lettre.png"
    scan.write_bytes(scan_of(FRENCH))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await log_in(browser, console, "ada", "ada-demo-1001")
            await page.click('a[href="/letters/new"]')
            await page.set_input_files("#scan-file", str(scan))
            await page.select_option("#scan-language", "fra")
            await page.click("#read-scan")
            await expect(page.locator("#confirm-form")).to_be_visible(timeout=60_000)
            draft = await page.input_value("#letter-verbatim")
            assert "biscuits" in draft
            await page.fill("#letter-verbatim", draft + "\nClaire Martin")
            await page.fill("#letter-writer", "Claire Martin")
            await page.click("#confirm-letter")
            await page.wait_for_url("**/cases/view?id=*")
            await expect(page.locator("#verbatim")).to_contain_text("Claire Martin")
            await expect(page.locator("#letter-scans")).to_be_visible()
            image = page.locator("#letter-scan-list img")
            await expect(image).to_have_count(1)
            # The scan itself is shown, from the console: the image loads at its own width.
            await page.wait_for_function(
                "() => { const i = document.querySelector('#letter-scan-list img');"
                " return i && i.complete && i.naturalWidth === 1600; }",
                timeout=10_000,
            )
            await expect(page.locator("#fulfil-kind")).to_have_value("letter")
        finally:
            await browser.close()
