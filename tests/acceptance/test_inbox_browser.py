"""In a real browser, on the console's origin alone: ada's inbox shows an email another agent holds and
one she can claim; she claims it, sets a follow-up on the case page, its reminder fires and shows in her
inbox, and she marks it done. Contacts and the console run as their own processes."""

from __future__ import annotations

import aiohttp
import pytest

from services.console.seed import seed_demo
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def stack(service_env, database_url, tmp_path):
    seed_demo(database_url)
    console_port, grpc_port, http_port = free_port(), free_port(), free_port()
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{http_port}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{grpc_port}",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{console_port}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
        "CRS_FOLLOW_UP_SWEEP_SECONDS": "0.2",
    }
    with running(env, [("services.contacts", http_port), ("services.console", console_port)]):
        yield f"http://127.0.0.1:{console_port}"


async def bearer(http, base: str, username: str, password: str) -> dict[str, str]:
    async with http.post(f"{base}/api/login", json={"username": username, "password": password}) as reply:
        assert reply.status == 200, await reply.text()
        return {"Authorization": f"Bearer {(await reply.json())['token']}"}


async def an_email(http, base, who, verbatim: str) -> dict:
    # Critical: due within the hour, so it heads the inbox whatever other tests of this run left open.
    body = {"issue_code": "question", "channel": "email", "severity": "critical", "verbatim": verbatim}
    async with http.post(f"{base}/api/contacts", json=body, headers=who) as reply:
        assert reply.status == 201, await reply.text()
        return await reply.json()


async def test_ada_claims_an_email_sets_a_follow_up_and_is_reminded_in_her_inbox(stack):
    from playwright.async_api import async_playwright, expect

    base = stack
    async with aiohttp.ClientSession() as http:
        ben = await bearer(http, base, "ben", "ben-demo-1002")
        ada = await bearer(http, base, "ada", "ada-demo-1001")
        held = await an_email(http, base, ben, "Is the cereal gluten free?")
        free = await an_email(http, base, ben, "My parcel never came.")
        async with http.post(f"{base}/api/contacts/{held['id']}/claim", json={}, headers=ben) as reply:
            assert reply.status == 200
        # Its own words, so that no other test's follow-up for ada is taken for it.
        task = f"call back Tuesday about #{free['reference']}"

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = await (await browser.new_context()).new_page()
                await page.goto(f"{base}/login")
                await page.fill('input[name="username"]', "ada")
                await page.fill('input[name="password"]', "ada-demo-1001")
                await page.click('button[type="submit"]')
                await page.wait_for_url(f"{base}/")
                await page.click("nav >> text=Inbox")
                await page.wait_for_url(f"{base}/inbox")
                held_row = page.locator("#inbox tr", has_text=f"#{held['reference']}")
                await expect(held_row).to_contain_text("ben until")
                await expect(held_row.get_by_role("button", name="Claim")).to_have_count(0)
                free_row = page.locator("#inbox tr", has_text=f"#{free['reference']}")
                await free_row.get_by_role("button", name="Claim").click()
                await page.wait_for_url(f"**/cases/view?id={free['id']}")
                await expect(page.locator("#reference")).to_contain_text(str(free["reference"]))

                await page.fill("#follow-up-text", task)
                await page.fill("#follow-up-due", "2020-01-07T09:00")  # already due: the reminder fires now
                await page.click("#add-follow-up")
                await expect(page.locator("#case-follow-ups")).to_contain_text(f"ada: {task}")

                async def reminded():
                    async with http.get(f"{base}/api/inbox", headers=ada) as reply:
                        return [
                            f for f in (await reply.json()).get("reminders", []) if f["case_id"] == free["id"]
                        ]

                await async_wait_for(reminded, timeout=20, what="the follow-up's reminder")
                await page.goto(f"{base}/inbox")
                await expect(page.locator("#reminders-box")).to_be_visible()
                await expect(page.locator("#reminders")).to_contain_text(task)
                mine = page.locator("#inbox tr", has_text=f"#{free['reference']}")
                await expect(mine).to_contain_text("you, until")
                follow_up = page.locator("#follow-ups tr", has_text=task)
                await follow_up.get_by_role("button", name="Done").click()
                await expect(page.locator("#follow-ups")).not_to_contain_text(task)
                await expect(page.locator("#reminders")).not_to_contain_text(task)

                # sam writes a rule in the browser: Spanish email goes to the agents with the skill es (ben).
                sam = await (await browser.new_context()).new_page()
                await sam.goto(f"{base}/login")
                await sam.fill('input[name="username"]', "sam")
                await sam.fill('input[name="password"]', "sam-demo-super")
                await sam.click('button[type="submit"]')
                await sam.wait_for_url(f"{base}/")
                await sam.goto(f"{base}/inbox")
                await sam.click("text=Assignment rules")
                await sam.wait_for_url(f"{base}/inbox/rules")
                await sam.fill("#rule-name", "Spanish email")
                await sam.fill("#rule-position", "1")
                await sam.select_option("#rule-channel", "email")
                await sam.fill("#rule-language", "es")
                await sam.fill("#rule-skill", "es")
                await sam.click("#save-rule")
                await expect(sam.locator("#rules tr", has_text="Spanish email")).to_contain_text("es")
            finally:
                await browser.close()

        spanish = await an_email(http, base, ada, "¿Dónde puedo comprar las barritas?")
        async with http.patch(
            f"{base}/api/contacts/{spanish['id']}",
            json={"language": "es", "version": spanish["version"]},
            headers=ada,
        ) as reply:
            assert reply.status == 200, await reply.text()
        inboxes = {}
        for name, who in (("ada", ada), ("ben", ben)):
            async with http.get(f"{base}/api/inbox?channel=email", headers=who) as reply:
                inboxes[name] = {item["case"]["id"] for item in (await reply.json())["items"]}
        assert spanish["id"] in inboxes["ben"] and spanish["id"] not in inboxes["ada"]
        sam_api = await bearer(http, base, "sam", "sam-demo-super")
        async with http.get(f"{base}/api/inbox/rules", headers=sam_api) as reply:
            (rule,) = [r for r in (await reply.json())["rules"] if r["name"] == "Spanish email"]
        async with http.post(
            f"{base}/api/inbox/rules", json={**rule, "active": False}, headers=sam_api
        ) as reply:
            assert reply.status == 200, await reply.text()

        action = {"action_code": "replied", "note": "Dear consumer"}
        async with http.post(f"{base}/api/contacts/{free['id']}/actions", json=action, headers=ben) as reply:
            assert reply.status == 409
            assert "ada claimed this case" in (await reply.json())["error"]
