"""In a real browser, on the console's origin alone: an agent fulfils from a case page (a coupon within her
limit goes out at once; a refund above it waits), a supervisor approves the refund from the approval
queue, and the case shows each fulfillment's steps on its timeline until it is delivered.

Contacts, billing, the fulfillment API, its nameko worker and the console run as their own processes on
this run's database and broker; the people sign in with the demo logins. The JSON API's permissions are
checked on the same stack: an agent is refused the approval queue and the decisions.
"""

from __future__ import annotations

import aiohttp
import psycopg
import pytest
from crs.contacts.v1 import contacts_pb2 as cpb
from crs.contacts.v1 import contacts_pb2_grpc

from services.runtime import grpcio
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.integration.fulfillment.conftest import WORKER_QUEUE, queue_exists
from tests.support import infra
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_database():
    """A database of this module's own: the stock, stores and requests it checks are the demo's alone, not
    what tests run earlier in the session left in the shared one."""
    with infra.migrated_database("crs_fulfil_browser") as url:
        yield url


@pytest.fixture(scope="module")
def own_vhost():
    """A vhost of this module's own: a fulfillment worker started earlier in the session (the integration
    tests') would otherwise share the worker's queue and take this module's requests."""
    with infra.own_vhost("crs-fulfil-browser") as url:
        yield url


@pytest.fixture(scope="module")
def stack(service_env, own_database, own_vhost, tmp_path_factory):
    database_url, amqp_url = own_database, own_vhost
    from services.console.seed import seed_demo as seed_logins
    from services.fulfillment.seed import seed_demo as seed_products

    seed_logins(database_url)
    seed_products(database_url)
    ports = {name: free_port() for name in ("console", "contacts", "http", "billing", "fulfil", "worker")}
    env = {
        **service_env,
        "CRS_DATABASE_URL": database_url,
        "CRS_AMQP_URL": amqp_url,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
        "CRS_BILLING_GRPC": f"127.0.0.1:{ports['billing']}",
        "CRS_FULFILLMENT_GRPC": f"127.0.0.1:{ports['fulfil']}",
        "CRS_FULFILLMENT_WORKER_METRICS_PORT": str(ports["worker"]),
        "CRS_FULFILLMENT_RESTOCK_SECONDS": "0.5",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path_factory.mktemp('recordings')}",
    }
    with running(
        env,
        (
            ("services.contacts", ports["contacts"]),
            ("services.billing", ports["billing"]),
            ("services.fulfillment", ports["fulfil"]),
            ("services.fulfillment.worker", ports["worker"]),
            ("services.console", ports["console"]),
        ),
    ):
        base = f"http://127.0.0.1:{ports['console']}"
        wait_for(lambda: healthy(base), timeout=30, what="the console")
        wait_for(lambda: queue_exists(amqp_url, WORKER_QUEUE), timeout=30, what="the worker's queue")
        yield base, env["CRS_CONTACTS_GRPC"]


async def token(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(f"{base}/api/login", json={"username": username, "password": password}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["token"]


async def new_case(stack) -> str:
    """A consumer on file and a complaint case for them, captured by ada through the console's API."""
    base, contacts = stack
    async with grpcio.channel(contacts) as channel:
        consumer = await contacts_pb2_grpc.ContactsStub(channel).CreateConsumer(
            cpb.CreateConsumerRequest(
                consumer=cpb.Consumer(
                    name="Jane Doe",
                    phones=[cpb.PhoneNumber(number="+16145550142")],
                    addresses=[
                        cpb.PostalAddress(
                            region_code="US",
                            address_lines=["12 Elm Street"],
                            locality="New York",
                            administrative_area="NY",
                            postal_code="10001",
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
        async with session.post(
            f"{base}/api/contacts", json=body, headers={"Authorization": f"Bearer {ada}"}
        ) as r:
            assert r.status == 201, await r.text()
            return (await r.json())["id"]


async def test_an_agent_fulfils_from_the_case_and_a_supervisor_approves_a_refund_above_her_limit(stack):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    case_id = await new_case(stack)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            await agent.goto(f"{base}/cases/view?id={case_id}")
            await expect(agent.locator("#verbatim")).to_have_text("A piece of plastic in the oats.")

            # A coupon within her limit (25.00): approved at once, issued and sent by the worker.
            await agent.select_option("#fulfil-kind", "coupon")
            await agent.fill("#fulfil-value", "5.00")
            await agent.click("#fulfil")
            await expect(agent.locator("#message")).to_have_text("Coupon approved and on its way.")
            coupon = agent.locator("#fulfillments tr[data-kind=coupon]")
            await expect(coupon).to_have_attribute("data-state", "delivered", timeout=30_000)
            await expect(coupon).to_contain_text("5.00 USD")

            # The letter's proof, before sending it.
            await agent.select_option("#fulfil-kind", "letter")
            href = await agent.locator("#letter-preview").get_attribute("href")
            preview = await agent.request.get(base + href)
            assert preview.status == 200
            assert preview.headers["content-type"] == "application/pdf"
            assert (await preview.body()).startswith(b"%PDF-")

            # The apology letter, printed and posted; a replacement, reserved, picked and shipped.
            await agent.fill("#fulfil-template", "apology")
            await agent.click("#fulfil")
            letter = agent.locator("#fulfillments tr[data-kind=letter]")
            await expect(letter).to_have_attribute("data-state", "shipped", timeout=30_000)
            await expect(letter.get_by_role("link")).to_have_text("letter (PDF)")
            await agent.select_option("#fulfil-kind", "replacement")
            await agent.fill("#fulfil-sku", "FD-OAT-500")
            await agent.fill("#fulfil-value", "")
            await agent.click("#fulfil")
            replacement = agent.locator("#fulfillments tr[data-kind=replacement]")
            await expect(replacement).to_have_attribute("data-state", "shipped", timeout=30_000)

            # A refund above her limit waits for a supervisor; meanwhile the case awaits fulfillment.
            await agent.select_option("#fulfil-kind", "refund")
            await agent.fill("#fulfil-value", "40.00")
            await agent.click("#fulfil")
            await expect(agent.locator("#message")).to_contain_text("Sent to a supervisor for approval")
            refund = agent.locator("#fulfillments tr[data-kind=refund]")
            await expect(refund).to_have_attribute("data-state", "awaiting_approval")
            await expect(agent.locator("#stage")).to_contain_text("awaiting fulfillment")

            supervisor = await log_in(browser, base, "sam", "sam-demo-super")
            await supervisor.goto(f"{base}/fulfillment/approvals")
            waiting = supervisor.locator("#approvals tr", has_text="40.00 USD")
            await expect(waiting).to_contain_text("ada")
            await waiting.locator("button.refuse").click()  # a refusal needs a reason
            await expect(supervisor.locator("#message")).to_contain_text("reason")
            await waiting.locator("button.approve").click()
            await expect(supervisor.locator("#message")).to_have_text("Refund approved.")
            await expect(supervisor.locator("#approvals")).not_to_contain_text("40.00 USD")

            # The agent's page follows the refund to delivered: billing posted the credit.
            await expect(refund).to_have_attribute("data-state", "delivered", timeout=30_000)
            await expect(refund).to_contain_text("sam")
            await expect(agent.locator("#stage")).not_to_contain_text("awaiting fulfillment")
            steps = await agent.locator("#timeline li[data-kind=fulfillment]").evaluate_all(
                "items => items.map(i => i.querySelector('b').textContent.trim())"
            )
            assert steps[-5:] == [
                "Refund: Requested",
                "Refund: Awaiting approval",
                "Refund: Approved",
                "Refund: In progress (credit_requested)",
                "Refund: Delivered",
            ]
            assert "Coupon: Delivered" in steps
            kinds = await agent.locator("#timeline li").evaluate_all(
                "items => items.map(i => i.dataset.kind)"
            )
            assert kinds[0] == "created"  # the capture comes first; every step after it, in time order

            # An agent may not open the approval queue: the console says why.
            refused = await agent.goto(f"{base}/fulfillment/approvals")
            assert refused.status == 403
            await expect(agent.locator("p.error")).to_have_text(
                "you do not have the permission fulfillment.approve"
            )
        finally:
            await browser.close()


async def test_the_approval_api_refuses_an_agent_and_serves_a_supervisor(stack):
    base, _ = stack
    case_id = await new_case(stack)
    async with aiohttp.ClientSession() as session:
        ada = {"Authorization": f"Bearer {await token(session, base, 'ada', 'ada-demo-1001')}"}
        sam = {"Authorization": f"Bearer {await token(session, base, 'sam', 'sam-demo-super')}"}
        async with session.post(
            f"{base}/api/contacts/{case_id}/fulfillments",
            json={"kind": "refund", "value": "30.00", "currency": "USD"},
            headers=ada,
        ) as r:
            assert r.status == 201, await r.text()
            asked = await r.json()
        assert asked["state"] == "awaiting_approval"

        async with session.get(f"{base}/api/approvals", headers=ada) as r:
            assert r.status == 403
            assert await r.json() == {"error": "you do not have the permission fulfillment.approve"}
        for verb in ("approve", "refuse"):
            async with session.post(
                f"{base}/api/fulfillments/{asked['id']}/{verb}", json={"reason": "mine"}, headers=ada
            ) as r:
                assert r.status == 403

        async with session.get(f"{base}/api/approvals", headers=sam) as r:
            assert r.status == 200
            assert asked["id"] in [f["id"] for f in (await r.json())["fulfillments"]]
        async with session.post(
            f"{base}/api/fulfillments/{asked['id']}/refuse", json={"reason": ""}, headers=sam
        ) as r:
            assert r.status == 400
        async with session.post(
            f"{base}/api/fulfillments/{asked['id']}/refuse",
            json={"reason": "a refund was sent last week"},
            headers=sam,
        ) as r:
            assert r.status == 200
            refused = await r.json()
        assert (refused["state"], refused["decided_by"], refused["reason"]) == (
            "cancelled",
            "sam",
            "a refund was sent last week",
        )

        async with session.post(
            f"{base}/api/contacts/{case_id}/fulfillments",
            json={"kind": "coupon", "value": "2.5x"},
            headers=ada,
        ) as r:
            assert r.status == 400
            assert "value" in (await r.json())["error"]


async def test_the_stock_page_prompts_a_restock_and_finds_where_to_buy(stack, own_database):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    # A supply planner's figures for one product: the Manhattan shelf is down to 2 against a point of 6,
    # the Paris shelf has none, every other location is above its point.
    with psycopg.connect(own_database, autocommit=True) as conn:
        conn.execute("UPDATE fulfillment.stock SET reorder_point = 0 WHERE sku = 'FD-OAT-500'")
        conn.execute(
            "UPDATE fulfillment.stock SET on_hand = 2, reorder_point = 6"
            " WHERE sku = 'FD-OAT-500' AND location_id = 'ST-US-NYC-01'"
        )
        conn.execute(
            "UPDATE fulfillment.stock SET on_hand = 0 WHERE sku = 'FD-OAT-500' AND location_id = 'ST-FR-PAR-01'"
        )
        conn.execute(
            "UPDATE fulfillment.stock SET on_hand = 9 WHERE sku = 'FD-OAT-500' AND location_id = 'ST-US-SF-01'"
        )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            await agent.goto(f"{base}/products/stock?sku=FD-OAT-500")
            await expect(agent.locator("#levels tr")).to_have_count(7)
            await expect(agent.locator("#restock-list li")).to_have_text(
                [
                    "Main Street Market, Manhattan (Northeast): 2 available, below its reorder point of 6; send 4 or more."
                ]
            )
            await expect(agent.locator("#levels tr.below")).to_have_attribute("data-location", "ST-US-NYC-01")
            await agent.fill("#wtb-postcode", "10001")
            await agent.click("#wtb")
            # The stocked stores in the US data, nearest first; Paris has none left.
            await expect(agent.locator("#wtb-stores tr td:first-child")).to_have_text(
                ["Main Street Market, Manhattan", "Bay Grocers, Mission"]
            )
            # By hand: ZIP 10001's centre in the bundled data (40.7484, -73.9967) to the store, 0.247 km.
            await expect(agent.locator("#wtb-stores tr").first).to_contain_text("0.3 km")
        finally:
            await browser.close()


def sold_in_window(conn, sku: str, region: str, days: int = 14) -> int:
    """Units of `sku` sold in the last `days` at the locations of a US region, from the orders alone."""
    [(units,)] = conn.execute(
        "SELECT coalesce(sum(ol.quantity), 0)::int FROM orders o JOIN order_line ol ON ol.order_id = o.id"
        " JOIN location l ON l.id = o.location_id WHERE ol.sku = %s AND l.country = 'US' AND l.region = %s"
        " AND o.placed_at > now() - make_interval(days => %s) AND o.status NOT IN ('cancelled', 'returned')",
        (sku, region, days),
    ).fetchall()
    return units


async def test_a_supply_planner_sees_a_restock_prompt_with_its_figures_and_an_agent_does_not(
    stack, own_database
):
    base, _ = stack
    # The Manhattan shelf sold 1,400 jars of coffee in the last hour, on top of the demo's steady sales:
    # over 100 a day over the 14-day window, against what the Northeast (the shelf and the Allentown
    # distribution centre) has available.
    with psycopg.connect(own_database, autocommit=True) as conn:
        conn.execute("SET search_path = fulfillment")
        [(available,)] = conn.execute(
            "SELECT sum(s.on_hand - s.reserved)::int FROM stock s JOIN location l ON l.id = s.location_id"
            " WHERE s.sku = 'BV-COF-250' AND l.country = 'US' AND l.region = 'Northeast'"
        ).fetchall()
        steady = sold_in_window(conn, "BV-COF-250", "Northeast")
        conn.execute(
            "INSERT INTO orders (id, consumer_id, placed_at, channel, status, currency, total_minor, location_id)"
            " VALUES ('5e1f0000-0000-4000-8000-000000000001', gen_random_uuid(), now() - interval '1 hour',"
            " 'retail', 'delivered', 'USD', 0, 'ST-US-NYC-01')"
        )
        conn.execute(
            "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor)"
            " VALUES ('5e1f0000-0000-4000-8000-000000000001', 1, 'BV-COF-250', 1400, 699)"
        )
    async with aiohttp.ClientSession() as session:
        ada = {"Authorization": f"Bearer {await token(session, base, 'ada', 'ada-demo-1001')}"}
        sam = {"Authorization": f"Bearer {await token(session, base, 'sam', 'sam-demo-super')}"}

        async def coffee_prompts():
            async with session.get(f"{base}/api/restock-prompts?sku=BV-COF-250", headers=sam) as r:
                assert r.status == 200, await r.text()
                return [p for p in (await r.json())["prompts"] if p["region"] == "Northeast"]

        [prompt] = await async_wait_for(coffee_prompts, timeout=20, what="a restock prompt for the coffee")
        per_day = (steady + 1400) / 14
        assert (prompt["reasons"], prompt["units_sold"], prompt["velocity_per_day"]) == (
            ["low_cover"],
            steady + 1400,
            round(per_day, 3),
        )
        assert (prompt["available"], prompt["days_of_cover"]) == (available, round(available / per_day, 2))

        for path in ("/api/restock-prompts", "/products/restock"):
            async with session.get(f"{base}{path}", headers=ada) as r:
                assert r.status == 403
        async with session.get(f"{base}/products/restock", headers=sam) as r:
            assert r.status == 200
            assert 'data-page="restock"' in await r.text()
        async with session.put(f"{base}/api/restock-policy", json={"cover_days": "x"}, headers=sam) as r:
            assert r.status == 400


async def test_a_planner_sees_the_demo_heatwave_prompt_in_the_browser_and_moves_it_with_the_thresholds(
    stack, own_database
):
    """The demo's own sell-through: sun lotion in US/West is selling faster than the region's 42 units
    will last, and six lookups there found none nearby (against two in the four windows before)."""
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    with psycopg.connect(own_database, autocommit=True) as conn:
        conn.execute("SET search_path = fulfillment")
        sold = sold_in_window(conn, "PC-SUN-200", "West")
    per_day = sold / 14
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.goto(f"{base}/products/restock")
            prompt = sam.locator('#prompts tr[data-sku="PC-SUN-200"][data-region="West"]')
            cells = prompt.locator("td")
            await expect(cells.nth(3)).to_have_text("Low cover, Misses climbing", timeout=20_000)
            figures = await cells.evaluate_all("tds => tds.slice(0, 9).map((td) => td.textContent)")
            assert figures == [
                "PC-SUN-200",
                "US",
                "West",
                "Low cover, Misses climbing",
                str(sold),
                f"{per_day:.1f}",
                "42",
                f"{42 / per_day:.1f}",
                "6 (0.5)",
            ]
            assert 42 / per_day < 7  # the demo's point: under the default threshold, a week of cover

            # Below 3 days of cover: about five is no longer low, the misses still climb.
            await sam.fill("#policy-cover_days", "3")
            await sam.click("#save-policy")
            await expect(sam.locator("#message")).to_have_text(
                "Thresholds saved; the prompts below follow them."
            )
            await expect(sam.locator("#restock-policy")).to_contain_text("Prompted below 3 days of cover")
            await expect(cells.nth(3)).to_have_text("Misses climbing")
            # At least ten misses before they count: nothing holds, the prompt is cleared.
            await sam.fill("#policy-min_misses", "10")
            await sam.click("#save-policy")
            await expect(prompt).to_have_count(0)
            # Back to the defaults: raised again, for both reasons.
            await sam.fill("#policy-cover_days", "7")
            await sam.fill("#policy-min_misses", "3")
            await sam.click("#save-policy")
            await expect(cells.nth(3)).to_have_text("Low cover, Misses climbing")

            # An agent is refused the page, and the thresholds through the API.
            ada = await log_in(browser, base, "ada", "ada-demo-1001")
            refused = await ada.goto(f"{base}/products/restock")
            assert refused.status == 403
            await expect(ada.locator("p.error")).to_have_text("you do not have the permission restock.read")
            async with aiohttp.ClientSession() as session:
                ada_token = await token(session, base, "ada", "ada-demo-1001")
                async with session.put(
                    f"{base}/api/restock-policy",
                    json={"cover_days": "30"},
                    headers={"Authorization": f"Bearer {ada_token}"},
                ) as r:
                    assert r.status == 403
        finally:
            await browser.close()


async def test_an_admin_lowers_an_agents_limit_and_her_next_refund_above_it_goes_to_approval(
    stack, own_database
):
    from playwright.async_api import async_playwright, expect

    from services.console.seed import upsert_agent
    from services.runtime import db

    base, _ = stack
    with db.connect(own_database, schema="console") as conn:
        upsert_agent(conn, username="olga", display_name="Olga Admin", password="olga-admin-pass",
                     role="admin", extension=None, team_id=None)  # fmt: skip
        conn.commit()
    case_id = await new_case(stack)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            admin = await log_in(browser, base, "olga", "olga-admin-pass")
            await admin.click("nav a:has-text('Limits')")
            await expect(admin.locator("#limits tr", has_text="supervisor")).to_have_count(2)
            # A bad figure is refused with a reason, and nothing changes.
            await admin.fill("#limit-name", "ada")
            await admin.fill("#limit-max_value_minor", "1000")
            await admin.fill("#limit-max_period_minor", "500")
            await admin.click("#save-limit")
            await expect(admin.locator("#message")).to_contain_text("max_period_minor")
            await admin.fill("#limit-max_period_minor", "5000")
            await admin.click("#save-limit")
            await expect(admin.locator("#message")).to_have_text(
                "Limit saved for ada; their next request follows it."
            )
            await expect(admin.locator("#limits tr[data-name=ada]")).to_contain_text("1000")
            await expect(admin.locator("#limit-changes tr").first).to_contain_text("olga")

            # 15.00 is within the agent role's 25.00, but above her own 10.00: it waits for a supervisor.
            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            await agent.goto(f"{base}/cases/view?id={case_id}")
            await agent.select_option("#fulfil-kind", "refund")
            await agent.fill("#fulfil-value", "15.00")
            await agent.click("#fulfil")
            await expect(agent.locator("#message")).to_contain_text("Sent to a supervisor for approval")
            refund = agent.locator("#fulfillments tr[data-kind=refund]")
            await expect(refund).to_have_attribute("data-state", "awaiting_approval")

            # A supervisor reads the limits but has no form to change them.
            supervisor = await log_in(browser, base, "sam", "sam-demo-super")
            await supervisor.goto(f"{base}/admin/limits")
            await expect(supervisor.locator("#limits tr[data-name=ada]")).to_contain_text("1000")
            await expect(supervisor.locator("#limit-form")).to_have_count(0)
            await admin.locator("#limits tr[data-name=ada] button").click()
            await expect(admin.locator("#limits tr[data-name=ada]")).to_have_count(0)
        finally:
            await browser.close()


async def test_a_planner_gives_one_region_its_own_cover_threshold_on_the_restock_page(stack):
    from playwright.async_api import async_playwright, expect

    base, _ = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.goto(f"{base}/products/restock")
            prompt = sam.locator('#prompts tr[data-sku="PC-SUN-200"][data-region="West"]')
            await expect(prompt.locator("td").nth(3)).to_have_text(
                "Low cover, Misses climbing", timeout=20_000
            )
            # A region we have no location in is refused, with why.
            await sam.fill("#threshold-country", "US")
            await sam.fill("#threshold-region", "Atlantis")
            await sam.fill("#threshold-cover_days", "1")
            await sam.click("#save-threshold")
            await expect(sam.locator("#message")).to_have_text("region: no location in US/Atlantis")
            # One day of cover for the lotion in the West alone: its cover is no longer low there.
            await sam.fill("#threshold-sku", "PC-SUN-200")
            await sam.fill("#threshold-region", "West")
            await sam.click("#save-threshold")
            await expect(sam.locator("#message")).to_have_text(
                "Threshold saved; the prompts above follow it."
            )
            await expect(prompt.locator("td").nth(3)).to_have_text("Misses climbing")
            await expect(sam.locator("#cover-thresholds tr")).to_have_count(1)
            await expect(sam.locator("#threshold-changes tr").first).to_contain_text("sam")
            await expect(sam.locator("#threshold-changes tr").first).to_contain_text("PC-SUN-200 in US/West")
            # Removed: the default's seven days apply again.
            await sam.locator("#cover-thresholds tr button").click()
            await expect(sam.locator("#cover-thresholds tr")).to_have_count(0)
            await expect(prompt.locator("td").nth(3)).to_have_text("Low cover, Misses climbing")
        finally:
            await browser.close()
