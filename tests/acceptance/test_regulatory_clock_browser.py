"""In a real browser, contacts and the console as processes: a serious adverse event of a dietary supplement
shows its MedWatch 3500A clock on the case page and in the supervisors' queue; the supervisor downloads the
form's fields and marks the report filed; the regimes page lists the regimes, read only for a supervisor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, console_process, log_in  # noqa: F401

pytestmark = pytest.mark.browser


def a_monday_a_week_or_two_ago() -> str:
    day = datetime.now(UTC).date() - timedelta(days=7)
    day -= timedelta(days=day.weekday())
    return f"{day.isoformat()}T09:00:00Z"


async def capture_as_ada(base: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/login", json={"username": "ada", "password": "ada-demo-1001"}
        ) as reply:
            token = (await reply.json())["token"]
        case = {
            "issue_code": "complaint.illness_injury.adverse_event",
            "severity": "critical",
            "verbatim": "Two capsules of the iron supplement and my daughter was sick all night.",
            "product": {"sku": "SUP-IRON-60", "name": "Iron 60 capsules", "lot_code": "L2611"},
            "reporter": {"name": "Nadia Kerr", "phone": "+15555550123"},
            "occurred_at": a_monday_a_week_or_two_ago(),
        }
        headers = {"Authorization": f"Bearer {token}"}
        async with http.post(f"{base}/api/contacts", json=case, headers=headers) as reply:
            assert reply.status == 201, await reply.text()
            return await reply.json()


async def test_the_case_page_and_the_queue_show_the_reporting_clock_and_the_report_is_filed(console_process):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    base, _ = console_process
    case = await capture_as_ada(base)
    clock = case["regulatory_clock"]
    assert (clock["form"], clock["deadline"], clock["state"]) == (
        "MedWatch 3500A",
        "15 business days",
        "on_time",
    )

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.goto(f"{base}/cases/view?id={case['id']}")
            await expect(sam.locator("#regulatory")).to_be_visible()
            await expect(sam.locator("#clock-state")).to_have_text("on time")
            await expect(sam.locator("#clock-details")).to_contain_text("15 business days from receipt")
            shown_due = await sam.evaluate("iso => new Date(iso).toLocaleString()", clock["due_at"])
            await expect(sam.locator("#clock-due")).to_have_text(shown_due)

            async with sam.expect_download() as downloading:
                await sam.click("#export-csv")
            exported = (await (await downloading.value).path()).read_text()
            assert "form,FDA MedWatch 3500A" in exported
            assert "product.lot_code,L2611" in exported
            assert "reporter.name,Nadia Kerr" in exported

            await sam.goto(f"{base}/cases/queue")
            row = sam.locator("#queue tr", has_text=f"#{case['reference']}")
            await expect(row.locator(".clock")).to_have_text(f"MedWatch 3500A: {shown_due} (on time)")

            await sam.goto(f"{base}/cases/view?id={case['id']}")
            await sam.fill("#report-reference", "MW-5012345")
            await sam.click("#file-report")
            await expect(sam.locator("#clock-state")).to_have_text("filed")
            await expect(sam.locator("#clock-details")).to_contain_text("by sam, reference MW-5012345")
            await expect(sam.locator("#file-report-form")).to_be_hidden()

            await sam.click('nav a[href="/regulatory"]')
            await expect(sam.locator('#regimes tr[data-regime="cpsc_15b"]')).to_contain_text("24 hours")
            await expect(sam.locator("#holidays")).to_contain_text("Christmas Day")
            await expect(sam.locator("#regime-edit")).to_have_count(0)

            ada = await log_in(browser, base, "ada", "ada-demo-1001")
            await ada.goto(f"{base}/cases/view?id={case['id']}")
            await expect(ada.locator("#clock-state")).to_have_text("filed")
            await expect(ada.locator("#file-report")).to_have_count(0)
        finally:
            await browser.close()
