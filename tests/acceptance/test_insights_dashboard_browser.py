"""The voice-of-the-consumer dashboard in a real browser, on the console's origin alone: sam (supervisor)
sees every chart drawn with its legend, clicks this week's point of a product's CPMU chart and gets the
contacts behind it; an analyst gets the same contacts with their personal data removed; an agent is
refused. Each report's CSV reads back as the figures the charts draw.

Contacts (casework), insights and the console run as their own processes on a database and a vhost of this
module's own: the figures count every case captured, so no other test's cases may reach them. The cases
are captured through the console's API and reach insights as casework's events.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest
from crs.insights.v1 import insights_pb2 as ipb
from crs.insights.v1 import insights_pb2_grpc

from services.runtime import db, grpcio
from services.runtime.principal import Principal
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.support import infra
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for, wait_for

pytestmark = pytest.mark.browser

ANALYST = ("quinn", "quinn-test-analyst")
CHARTS = ("volumes", "rising", "praise", "cpmu")
TODAY = date.today()
THIS_WEEK = TODAY - timedelta(days=TODAY.weekday())
CLUSTER = 6
REPORTER = "Jane Doe"


@pytest.fixture(scope="module")
def own_database():
    with infra.migrated_database("crs_dashboard_browser") as url:
        yield url


@pytest.fixture(scope="module")
def own_vhost():
    with infra.own_vhost("crs-dashboard-browser") as url:
        yield url


@pytest.fixture(scope="module")
def stack(service_env, own_database, own_vhost, tmp_path_factory):
    from services.console import seed

    seed.seed_demo(own_database)
    with db.connect(own_database, schema=seed.SCHEMA) as conn:
        seed.upsert_agent(
            conn, username=ANALYST[0], display_name="Quinn QA", password=ANALYST[1], role="analyst",
            extension=None, team_id=None,
        )  # fmt: skip
        conn.commit()
    ports = {name: free_port() for name in ("console", "contacts", "http", "insights")}
    env = {
        **service_env,
        "CRS_DATABASE_URL": own_database,
        "CRS_AMQP_URL": own_vhost,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
        "CRS_INSIGHTS_GRPC": f"127.0.0.1:{ports['insights']}",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path_factory.mktemp('recordings')}",
    }
    with running(
        env,
        (
            ("services.contacts", ports["contacts"]),
            ("services.insights", ports["insights"]),
            ("services.console", ports["console"]),
        ),
    ):
        base = f"http://127.0.0.1:{ports['console']}"
        wait_for(lambda: healthy(base), timeout=30, what="the console")
        yield base, env["CRS_INSIGHTS_GRPC"]


async def token(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(f"{base}/api/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["token"]


def _case(sku: str, lot: str, issue: str, received: date, verbatim: str) -> dict:
    return {
        "channel": "phone",
        "direction": "inbound",
        "issue_code": issue,
        "verbatim": verbatim,
        "reporter": {"name": REPORTER, "phone": "+16145550142"},
        "product": {"sku": sku, "lot_code": lot, "purchase_location": "Springfield, IL"},
        "occurred_at": datetime.combine(received, datetime.min.time(), UTC).isoformat(),
    }


def cases() -> list[dict]:
    """Eight weeks of a complaint a week on the best-seller, one every other week on the oats, a cluster of
    foreign objects in the oats' lot L3 this week, and compliments."""
    found = []
    for week in range(1, 9):
        monday = THIS_WEEK - timedelta(weeks=week)
        found.append(_case("CRN-1000", "B1", "complaint.quality.taste_odour", monday, "Tastes stale."))
        if week % 2 == 0:
            found.append(_case("OAT-500", "L1", "complaint.quality.taste_odour", monday, "Bitter oats."))
    for i in range(CLUSTER):
        day = max(THIS_WEEK, TODAY - timedelta(days=i % 2))
        found.append(
            _case(
                "OAT-500", "L3", "complaint.quality.foreign_object.plastic", day, f"{REPORTER} found plastic."
            )
        )
    found.append(_case("OAT-500", "L1", "compliment.product", TODAY, "Lovely oats."))
    found.append(_case("CRN-1000", "B1", "compliment.service", TODAY, "Kind agent."))
    return found


def sales() -> list[ipb.SalesRow]:
    first, last = (THIS_WEEK - timedelta(weeks=9)).isoformat(), TODAY.isoformat()
    return [
        ipb.SalesRow(sku=sku, lot_code=lot, region="IL", period_start=first, period_end=last, units=units)
        for sku, lot, units in (
            ("OAT-500", "L1", 40_000), ("OAT-500", "L3", 40_000), ("CRN-1000", "B1", 5_000_000),
        )
    ]  # fmt: skip


@pytest.fixture(scope="module")
async def captured(stack):
    """The cases, captured by ada; returns the references of this week's cluster once insights has them."""
    base, insights_target = stack
    async with grpcio.channel(insights_target) as channel:
        await insights_pb2_grpc.InsightsStub(channel).ImportSales(
            ipb.ImportSalesRequest(rows=sales(), source="test"),
            metadata=Principal("quinn", "analyst").metadata(),
            timeout=10,
        )
    cluster = set()
    async with aiohttp.ClientSession() as session:
        ada = await token(session, base, "ada", "ada-demo-1001")
        sam = await token(session, base, "sam", "sam-demo-super")
        for body in cases():
            async with session.post(
                f"{base}/api/contacts", json=body, headers={"Authorization": f"Bearer {ada}"}
            ) as r:
                assert r.status == 201, await r.text()
                made = await r.json()
            if body["product"]["lot_code"] == "L3":
                cluster.add(str(made["reference"]))

        async def all_taken():
            async with session.get(
                f"{base}/api/insights/volumes?by=product&weeks=13",
                headers={"Authorization": f"Bearer {sam}"},
            ) as r:
                found = await r.json()
            return sum(p["contacts"] for p in found.get("points", [])) == len(cases())

        await async_wait_for(all_taken, timeout=60, interval=0.5, what="insights to take every case")
    return cluster


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and RGB pixels of a PNG screenshot, row by row (Pillow comes with WeasyPrint)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    raw = image.tobytes()
    return image.width, image.height, [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]


def inked(pixels) -> int:
    """Pixels that are not the page's white."""
    return sum(1 for p in pixels if min(p) < 235)


async def test_sam_sees_every_chart_drawn_and_a_point_opens_onto_its_contacts(stack, captured):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await log_in(browser, base, "sam", "sam-demo-super")
            await page.goto(f"{base}/insights/")
            await expect(page.locator("body")).to_have_attribute("data-drawn", "yes", timeout=15000)
            await expect(page.locator("#message")).to_be_hidden()
            for name in CHARTS:
                canvas = page.locator(f"#chart-{name}")
                width, height, pixels = png_pixels(await canvas.screenshot())
                assert inked(pixels) > 0.01 * width * height, f"the {name} chart is blank"
                legend = await page.evaluate(
                    """(id) => { const c = window.Chart.getChart(document.getElementById(id));
                    return { items: c.legend.legendItems.map((i) => i.text), top: c.legend.top,
                             bottom: c.legend.bottom, ratio: window.devicePixelRatio }; }""",
                    f"chart-{name}",
                )
                assert legend["items"], f"the {name} chart has no legend"
                band = pixels[
                    round(legend["top"] * legend["ratio"]) * width : round(legend["bottom"] * legend["ratio"])
                    * width
                ]
                assert inked(band) > 20, f"the {name} chart's legend is not drawn"
            rising = page.locator("#table-rising tr").first
            await expect(rising).to_contain_text("OAT-500")
            await expect(rising).to_contain_text("complaint.quality.foreign_object.plastic")

            await expect(page.locator("#cpmu-sku")).to_have_value("OAT-500")
            point = await page.evaluate(
                """() => { const c = window.Chart.getChart(document.getElementById('chart-cpmu'));
                const last = c.getDatasetMeta(0).data.at(-1); return { x: last.x, y: last.y }; }"""
            )
            box = await page.locator("#chart-cpmu").bounding_box()
            await page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
            await expect(page.locator("#drill")).to_be_visible()
            rows = page.locator("#drill-rows tr")
            await expect(rows).to_have_count(CLUSTER)
            references = {(await rows.nth(i).locator("td").nth(1).text_content()) for i in range(CLUSTER)}
            assert references == captured
            await expect(rows.first).to_contain_text(REPORTER)
            await expect(rows.first).to_contain_text(f"{REPORTER} found plastic.")
        finally:
            await browser.close()


async def test_an_analyst_gets_the_contacts_without_personal_data_and_an_agent_is_refused(stack, captured):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await log_in(browser, base, *ANALYST)
            await page.goto(f"{base}/insights/")
            await expect(page.locator("body")).to_have_attribute("data-drawn", "yes", timeout=15000)
            await page.locator("#table-cpmu tr").last.click()
            rows = page.locator("#drill-rows tr")
            await expect(rows).to_have_count(CLUSTER)
            await expect(page.locator("#drill-count")).to_contain_text("personal data removed")
            references = {(await rows.nth(i).locator("td").nth(1).text_content()) for i in range(CLUSTER)}
            assert references == captured
            text = await page.locator("#drill-rows").text_content()
            assert REPORTER not in text and "Jane" not in text
            assert "[name] [name] found plastic." in text

            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            refused = await agent.goto(f"{base}/insights/")
            assert refused.status == 403
            await expect(agent.locator("a[href='/insights/']")).to_have_count(0)
        finally:
            await browser.close()


async def test_each_report_exports_the_figures_it_charts_as_csv(stack, captured):
    base, _ = stack
    async with aiohttp.ClientSession() as session:
        sam = {"Authorization": f"Bearer {await token(session, base, 'sam', 'sam-demo-super')}"}

        async def both(path: str) -> tuple[dict, list[dict]]:
            async with session.get(f"{base}{path}", headers=sam) as r:
                figures = await r.json()
            sep = "&" if "?" in path else "?"
            async with session.get(f"{base}{path}{sep}format=csv", headers=sam) as r:
                assert r.status == 200 and r.content_type == "text/csv"
                assert "attachment" in r.headers["Content-Disposition"]
                return figures, list(csv.DictReader(io.StringIO(await r.text())))

        figures, rows = await both("/api/insights/volumes?by=issue&weeks=13")
        assert [(r["week"], r["issue"], int(r["contacts"])) for r in rows] == [
            (p["week"], p["key"], p["contacts"]) for p in figures["points"]
        ]
        figures, rows = await both("/api/insights/praise?weeks=13")
        assert sum(int(r["contacts"]) for r in rows) == 2
        figures, rows = await both("/api/insights/rising")
        assert [(r["sku"], r["issue_code"], float(r["score"])) for r in rows] == [
            (i["sku"], i["issue_code"], i["score"]) for i in figures["issues"]
        ]
        figures, rows = await both("/api/insights/cpmu?sku=OAT-500&weeks=13")
        (trend,) = figures["products"]
        assert [float(r["upper_cpmu"]) for r in rows] == [p["upper_cpmu"] for p in trend["points"]]
        assert rows[-1]["week"] == THIS_WEEK.isoformat() and rows[-1]["above"] == "True"
        end = (THIS_WEEK + timedelta(days=6)).isoformat()
        figures, rows = await both(
            f"/api/insights/contacts?sku=OAT-500&issue_code=complaint&start={THIS_WEEK}&end={end}"
        )
        assert (
            {r["reference"] for r in rows} == captured == {str(c["reference"]) for c in figures["contacts"]}
        )


async def test_the_reports_refuse_a_malformed_query_with_its_reason_and_an_agent_outright(stack, captured):
    base, _ = stack
    async with aiohttp.ClientSession() as session:
        sam = {"Authorization": f"Bearer {await token(session, base, 'sam', 'sam-demo-super')}"}
        ada = {"Authorization": f"Bearer {await token(session, base, 'ada', 'ada-demo-1001')}"}
        for path, reason in (
            ("/api/insights/volumes?by=colour", "by: one of issue, product, region, channel"),
            ("/api/insights/volumes?weeks=0", "weeks: a whole number from 1 to 156"),
            ("/api/insights/rising?format=xml", "format: json or csv"),
            ("/api/insights/contacts?sku=FD-OAT-500", "start and end: the point's dates, YYYY-MM-DD"),
            ("/api/insights/contacts?start=2026-02-30&end=2026-03-01", "start: a date YYYY-MM-DD"),
        ):
            async with session.get(f"{base}{path}", headers=sam) as r:
                assert r.status == 400, path
                assert (await r.json())["error"] == reason
        for path in ("/api/insights/volumes", "/api/insights/cpmu?format=csv", "/api/insights/contacts"):
            async with session.get(f"{base}{path}", headers=ada) as r:
                assert r.status == 403, path
        # The console still answers after every refusal.
        async with session.get(f"{base}/api/insights/rising", headers=sam) as r:
            assert r.status == 200
