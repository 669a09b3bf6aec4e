"""Recall mode in a real browser: sam (supervisor) finds the lot alert on the alerts view, starts a recall
from it (the form comes prefilled with the alert's product and lot), and lands on the recall's page with its
live tally (the consumer who bought the product, the contacts about the lot) and "notices: not available",
since outreach is not running. ada then types the product and lot into the capture form and the recall's
script appears; another lot shows none. The case she saves is in the recall's queue sam opens.

Contacts, insights and the console run as their own processes on a database and a vhost of this module's
own. Insights hears the contact history and an order as casework's and fulfillment's events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import aio_pika
import pytest
from crs.insights.v1 import insights_pb2 as ipb
from crs.insights.v1 import insights_pb2_grpc

from services.fulfillment.orders_import_store import order_placed
from services.runtime import bus, grpcio
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.support import infra
from tests.support import insights_scenario as scenario
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for, wait_for

pytestmark = pytest.mark.browser

SCRIPT = ("Please stop eating oat flakes from lot L3.", "We refund every pack, with or without a receipt.")


@pytest.fixture(scope="module")
def own_database():
    with infra.migrated_database("crs_recall_browser") as url:
        yield url


@pytest.fixture(scope="module")
def own_vhost():
    with infra.own_vhost("crs-recall-browser") as url:
        yield url


@pytest.fixture(scope="module")
def stack(service_env, own_database, own_vhost, tmp_path_factory):
    from services.console import seed

    seed.seed_demo(own_database)
    ports = {name: free_port() for name in ("console", "contacts", "http", "insights")}
    env = {
        **service_env,
        "CRS_DATABASE_URL": own_database,
        "CRS_AMQP_URL": own_vhost,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
        "CRS_INSIGHTS_GRPC": f"127.0.0.1:{ports['insights']}",
        "CRS_INSIGHTS_RECOMPUTE_SECONDS": "5",
        # Nothing listens here: the recall's page must say the notices are not available.
        "CRS_OUTREACH_GRPC": f"127.0.0.1:{free_port()}",
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


def _sales() -> list[ipb.SalesRow]:
    header, *lines = scenario.sales_csv(date.today()).splitlines()
    names = header.split(",")
    rows = [dict(zip(names, line.split(","), strict=True)) for line in lines]
    return [ipb.SalesRow(**{**r, "units": int(r["units"])}) for r in rows]


@pytest.fixture(scope="module")
async def lot_alert(stack, own_vhost) -> ipb.Alert:
    """The scenario's history and an order of the oats, heard by insights; its alert on lot L3."""
    _, insights_target = stack
    connection = await aio_pika.connect(own_vhost)
    try:
        contacts = await bus.Publisher(connection, "contacts").open()
        for case in scenario.cases(date.today()):
            await contacts.publish(Event(source="contacts", type="contact_created", data={"case": case}))
        fulfillment = await bus.Publisher(connection, "fulfillment").open()
        bought = order_placed(str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC), "", ["OAT-500"])
        await fulfillment.publish(bought)
    finally:
        await connection.close()
    quinn = Principal("quinn", "analyst").metadata()
    async with grpcio.channel(insights_target) as channel:
        stub = insights_pb2_grpc.InsightsStub(channel)
        await stub.ImportSales(
            ipb.ImportSalesRequest(rows=_sales(), source="test"), metadata=quinn, timeout=10
        )

        async def alerted():
            found = await stub.ListAlerts(ipb.ListAlertsRequest(), metadata=quinn, timeout=10)
            return next((a for a in found.alerts if a.lot_code == "L3"), None)

        return await async_wait_for(alerted, timeout=90, interval=0.5, what="the lot alert")


async def test_sam_starts_a_recall_from_the_alert_and_adas_capture_form_shows_its_script(stack, lot_alert):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    contacts_about_l3 = sum(
        1
        for c in scenario.cases(date.today())
        if (c["product"]["sku"], c["product"]["lot_code"]) == ("OAT-500", "L3")
    )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.click("text=Alerts")
            row = sam.locator(f'#alerts tr[data-alert="{lot_alert.id}"]')
            await expect(row).to_contain_text("OAT-500")
            await row.get_by_role("button", name="Start a recall").click()
            await expect(sam.locator("#from-alert")).to_contain_text("lot L3")
            await expect(sam.locator('input[name="sku"]')).to_have_value("OAT-500")
            await expect(sam.locator('input[name="lot_codes"]')).to_have_value("L3")
            await sam.fill('input[name="title"]', "Oat flakes lot L3: plastic pieces")
            await sam.fill('textarea[name="script"]', "\n".join(SCRIPT))
            await sam.fill('textarea[name="consumer_message"]', "Do not eat oat flakes from lot L3.")
            await sam.fill('input[name="reason"]', "plastic confirmed by the lab")
            await sam.click("text=Open the recall")
            await expect(sam.locator("#recall-status")).to_have_text("open")
            await expect(sam.locator("#recall-script li")).to_have_text(list(SCRIPT))
            await expect(sam.locator('[data-tally="buyers"]')).to_have_text("1")
            await expect(sam.locator('[data-tally="contacts"]')).to_have_text(str(contacts_about_l3))
            await expect(sam.locator('[data-tally="notices"]')).to_have_text("notices: not available")
            recall_page = sam.url
            await sam.goto(f"{base}/insights/alerts")
            await expect(sam.locator(f'#alerts tr[data-alert="{lot_alert.id}"]')).to_contain_text("escalated")

            ada = await log_in(browser, base, "ada", "ada-demo-1001")
            await ada.goto(f"{base}/cases/new")
            script = ada.locator("#recall-script")
            await ada.fill("#sku", "OAT-500")
            await expect(script).to_contain_text("Ask for the lot code printed on the pack.")
            await ada.fill("#lot_code", "L1")
            await expect(script).to_be_hidden()
            await ada.fill("#lot_code", "L3")
            await expect(script).to_be_visible()
            await expect(script.locator("li")).to_have_text(list(SCRIPT))
            await expect(script).to_contain_text("Oat flakes lot L3: plastic pieces")
            await expect(script).not_to_contain_text("Ask for the lot code")
            await ada.fill("#issue_code", scenario.PLASTIC)
            await ada.fill("#verbatim", "Hard plastic in my oats.")
            await ada.click("#save")
            await ada.wait_for_url(f"{base}/cases/view?id=*")

            await sam.goto(recall_page)
            await sam.click("#recall-queue-link")
            await expect(sam.locator("#recall-queue tbody tr")).to_have_count(1)
            await expect(sam.locator("#recall-queue tbody tr")).to_contain_text("L3")
        finally:
            await browser.close()
