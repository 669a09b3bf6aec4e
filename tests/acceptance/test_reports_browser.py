"""The Reports page in a real browser: sam (supervisor) opens CSAT by agent, the chart draws (its canvas is
not blank, its legend is there), the table holds every group, and the CSV downloads with the same rows, a
name a spreadsheet would run as a formula written as text. An agent is refused the page.

The stack is the dashboard's (contacts, insights and the console as their own processes on a database and
vhost of their own); the cases are captured through the console's API and reach insights as casework's
events, the answers are published on `outreach.events` as outreach publishes them.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import aiohttp
import pytest

from services.runtime import bus
from services.runtime.events import Event
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, log_in
from tests.acceptance.test_insights_dashboard_browser import (  # noqa: F401 (the fixtures it needs)
    inked,
    own_database,
    own_vhost,
    png_pixels,
    stack,
    token,
)
from tests.support import reports_scenario as floor
from tests.support.wait import async_wait_for

pytestmark = pytest.mark.browser

FORMULA_AGENT = '=HYPERLINK("http://example.org")'


async def _post(session, url: str, body: dict, bearer: str) -> dict:
    async with session.post(url, json=body, headers={"Authorization": f"Bearer {bearer}"}) as r:
        assert r.status in (200, 201), await r.text()
        return await r.json()


@pytest.fixture(scope="module")
async def rated(stack, own_vhost):  # noqa: F811 (the imported fixtures)
    """Two cases by ada (one resolved on the spot), three CSAT answers: ada's 5 and 4, and a 1 for an
    agent whose name is a formula."""
    base, _ = stack
    async with aiohttp.ClientSession() as session:
        ada = await token(session, base, "ada", "ada-demo-1001")
        sam = await token(session, base, "sam", "sam-demo-super")
        made = []
        for channel in ("phone", "email"):
            body = {"channel": channel, "issue_code": "complaint.packaging.damaged", "verbatim": "Torn box."}
            made.append(await _post(session, f"{base}/api/contacts", body, ada))
        await _post(session, f"{base}/api/contacts/{made[0]['id']}/status", {"status": "resolved"}, ada)
        connection = await bus.connect(own_vhost)
        try:
            outreach = await bus.Publisher(connection, "outreach").open()
            case = {"id": made[0]["id"], "consumer_id": "", "team": "", "channel": "phone"}
            now = datetime.now(UTC)
            for agent, score in (("ada", 5), ("ada", 4), (FORMULA_AGENT, 1)):
                data = floor.answer({**case, "assignee": agent}, "csat", score, now)
                await outreach.publish(Event(source="outreach", type="survey_answered", data=data))
        finally:
            await connection.close()

        async def taken():
            async with session.get(
                f"{base}/api/insights/reports/csat", headers={"Authorization": f"Bearer {sam}"}
            ) as r:
                found = await r.json()
            return found["rows"][-1]["values"][0] == 3 or None

        await async_wait_for(taken, timeout=60, interval=0.5, what="insights to take every answer")


async def test_sam_sees_csat_by_agent_charted_and_downloads_the_same_rows(stack, rated, tmp_path):  # noqa: F811
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await log_in(browser, base, "sam", "sam-demo-super")
            await page.goto(f"{base}/insights/reports?name=csat&by=agent")
            await expect(page.locator("body")).to_have_attribute("data-drawn", "yes", timeout=15000)
            await expect(page.locator("#message")).to_be_hidden()
            await expect(page.locator("#report-title")).to_have_text("CSAT (share scoring 4-5 of 5)")
            width, height, pixels = png_pixels(await page.locator("#chart-report").screenshot())
            assert inked(pixels) > 0.01 * width * height, "the report's chart is blank"
            legend = await page.evaluate(
                "() => window.Chart.getChart(document.getElementById('chart-report'))"
                ".legend.legendItems.map((i) => i.text)"
            )
            assert legend == ["csat_pct"]
            rows = page.locator("#rows-report tr")
            await expect(rows).to_have_count(3)
            await expect(rows.nth(1)).to_contain_text("ada")
            await expect(rows.nth(2)).to_contain_text("(all)")

            async with page.expect_download() as downloading:
                await page.click("#csv-report")
            saved = tmp_path / "csat.csv"
            await (await downloading.value).save_as(saved)
            with saved.open(newline="") as handle:
                lines = list(csv.reader(handle))
            assert lines == [
                ["agent", "answers", "satisfied", "csat_pct", "mean_score"],
                ["'" + FORMULA_AGENT, "1", "0", "0", "1"],
                ["ada", "2", "2", "100", "4.5"],
                ["(all)", "3", "2", "66.7", "3.33"],
            ]

            await page.select_option("#report-name", "backlog")
            await expect(page.locator("#report-title")).to_have_text("Backlog: open cases by age")
            await expect(page.locator("#rows-report tr").last).to_contain_text("(all)")
            assert "name=backlog" in page.url and "by=agent" in page.url

            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            refused = await agent.goto(f"{base}/insights/reports")
            assert refused.status == 403
            await expect(agent.locator("a[href='/insights/reports']")).to_have_count(0)
        finally:
            await browser.close()
