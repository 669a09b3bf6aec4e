"""The themes panel of the insights dashboard in a real browser: quinn (analyst) sees the verbatims' themes
drawn as a chart with its legend, clicks the plastic theme and gets exactly the plastic cases with their
verbatims redacted; the themes table's CSV reads back as the chart's figures; sam (supervisor) gets the
same contacts, each linked to its case.

Contacts, insights and the console run as their own processes on a database and a vhost of this module's
own; the cases are captured through the console's API and reach insights as casework's events. Insights
keeps to its own representation here (CRS_INSIGHTS_THEMES_EMBEDDER=tfidf): the panel is what is tested,
tests/integration/insights/test_themes_end_to_end.py runs the knowledge model's path.
"""

from __future__ import annotations

import csv
import io

import aiohttp
import pytest

from services.runtime import db
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.acceptance.test_insights_dashboard_browser import inked, png_pixels, token
from tests.support import infra
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for, wait_for
from tests.unit.insights.theme_cases import ENGLISH

pytestmark = pytest.mark.browser

ANALYST = ("quinn", "quinn-test-analyst")
REPORTER = "Jane Doe"
CODES = {"plastic": "complaint.quality.foreign_object.plastic", "stale": "complaint.quality.taste_odour",
         "where": "question.where_to_buy"}  # fmt: skip


@pytest.fixture(scope="module")
def stack(service_env):
    from services.console import seed

    with (
        infra.migrated_database("crs_themes_browser") as database,
        infra.own_vhost("crs-themes-browser") as vhost,
    ):
        seed.seed_demo(database)
        with db.connect(database, schema=seed.SCHEMA) as conn:
            seed.upsert_agent(
                conn, username=ANALYST[0], display_name="Quinn QA", password=ANALYST[1], role="analyst",
                extension=None, team_id=None,
            )  # fmt: skip
            conn.commit()
        ports = {name: free_port() for name in ("console", "contacts", "http", "insights")}
        env = {
            **service_env,
            "CRS_DATABASE_URL": database,
            "CRS_AMQP_URL": vhost,
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
            "CRS_INSIGHTS_GRPC": f"127.0.0.1:{ports['insights']}",
            "CRS_INSIGHTS_THEMES_EMBEDDER": "tfidf",
            "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        }
        services = (("services.contacts", ports["contacts"]), ("services.insights", ports["insights"]),
                    ("services.console", ports["console"]))  # fmt: skip
        with running(env, services):
            base = f"http://127.0.0.1:{ports['console']}"
            wait_for(lambda: healthy(base), timeout=30, what="the console")
            yield base


@pytest.fixture(scope="module")
async def captured(stack):
    """The labelled English verbatims captured by ada (the first with its reporter's name in it); returns
    the plastic cases' ids once insights holds every verbatim."""
    base = stack
    plastic = set()
    async with aiohttp.ClientSession() as session:
        ada = await token(session, base, "ada", "ada-demo-1001")
        for i, (label, text) in enumerate(ENGLISH):
            body = {
                "channel": "phone", "direction": "inbound", "issue_code": CODES[label],
                "verbatim": f"{REPORTER} here. {text}" if i == 0 else text,
                "reporter": {"name": REPORTER} if i == 0 else {},
                "product": {"sku": "OAT-500", "lot_code": "L3", "purchase_location": "Springfield, IL"},
            }  # fmt: skip
            async with session.post(
                f"{base}/api/contacts", json=body, headers={"Authorization": f"Bearer {ada}"}
            ) as r:
                assert r.status == 201, await r.text()
                made = await r.json()
            if label == "plastic":
                plastic.add(made["id"])
        quinn = await token(session, base, *ANALYST)

        async def all_held():
            async with session.get(
                f"{base}/api/insights/themes?refresh=1&issue_prefix=",
                headers={"Authorization": f"Bearer {quinn}"},
            ) as r:
                return (await r.json()).get("verbatims") == len(ENGLISH)

        await async_wait_for(all_held, timeout=60, interval=0.5, what="insights to hold every verbatim")
    return plastic


async def test_the_themes_are_drawn_and_the_plastic_theme_opens_onto_its_cases(stack, captured):
    from playwright.async_api import async_playwright, expect

    base = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await log_in(browser, base, *ANALYST)
            await page.goto(f"{base}/insights/")
            await page.fill("#themes-issue", "")
            await page.click("#themes-refresh")
            await expect(page.locator("body")).to_have_attribute("data-themes-drawn", "yes", timeout=15000)
            await expect(page.locator("#themes-about")).to_contain_text(f"{len(ENGLISH)} verbatims")
            width, height, pixels = png_pixels(await page.locator("#chart-themes").screenshot())
            assert inked(pixels) > 0.01 * width * height, "the themes chart is blank"
            legend = await page.evaluate(
                "() => window.Chart.getChart(document.getElementById('chart-themes'))"
                ".legend.legendItems.map((i) => i.text)"
            )
            assert legend and any("plastic" in item for item in legend), legend

            row = page.locator("#table-themes tr", has_text="plastic").first
            await row.click()
            rows = page.locator("#theme-drill-rows tr")
            await expect(rows).to_have_count(len(captured))
            shown = {await rows.nth(i).locator("td").nth(1).text_content() for i in range(len(captured))}
            assert shown == captured
            text = await page.locator("#theme-drill-rows").text_content()
            assert "Jane" not in text and "Doe" not in text
            assert "[name] here. I found a piece of hard plastic" in text
            await expect(page.locator("#theme-drill-count")).to_contain_text("redacted")

            csv_href = await page.locator("#csv-themes").get_attribute("href")
            reply = await page.request.get(f"{base}{csv_href}")
            assert reply.ok, await reply.text()
            table = list(csv.DictReader(io.StringIO(await reply.text())))
            drawn = await page.evaluate(
                "() => window.Chart.getChart(document.getElementById('chart-themes'))"
                ".data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0)"
            )
            assert sum(int(r["contacts"]) for r in table) == drawn == len(ENGLISH)
            assert await rows.first.locator("a").count() == 0, "an analyst gets no link to the case"

            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.goto(f"{base}/insights/")
            await sam.fill("#themes-issue", "")
            await sam.press("#themes-issue", "Enter")
            await sam.locator("#table-themes tr", has_text="plastic").first.click()
            links = sam.locator("#theme-drill-rows tr a")
            await expect(links).to_have_count(len(captured))
            hrefs = {await links.nth(i).get_attribute("href") for i in range(len(captured))}
            assert hrefs == {f"/cases/view?id={c}" for c in captured}
        finally:
            await browser.close()
