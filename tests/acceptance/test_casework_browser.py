"""In a real browser, on the console's origin alone: an agent captures a complaint about a lot and
escalates it; a supervisor finds it in the queue and resolves it; the timeline shows every step.

Contacts (casework behind gRPC) and the console run as their own processes; both people sign in to the
console with the demo logins, and every page and API call goes to the console.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from crs.contacts.v1 import contacts_pb2 as cpb
from crs.contacts.v1 import contacts_pb2_grpc

from services.runtime import grpcio
from tests.support.wait import wait_for

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def console_process(service_env, database_url, tmp_path):
    from services.console.seed import seed_demo

    seed_demo(database_url)
    console_port, grpc_port, http_port = free_port(), free_port(), free_port()
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{http_port}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{grpc_port}",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{console_port}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
    }
    processes = []
    try:
        for module, url in (
            ("services.contacts", f"http://127.0.0.1:{http_port}"),
            ("services.console", f"http://127.0.0.1:{console_port}"),
        ):
            log = tmp_path / f"{module}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", module], env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb")
            )
            processes.append((module, process, log))
            wait_for(
                lambda url=url, process=process: healthy(url) or process.poll() is not None,
                timeout=30,
                what=f"{module} to listen",
            )
            assert process.poll() is None, log.read_text()[-3000:]
        yield f"http://127.0.0.1:{console_port}", f"127.0.0.1:{grpc_port}"
    finally:
        unclean = []
        for module, process, log in reversed(processes):
            process.terminate()
            code = process.wait(timeout=30)
            if code != 0:
                unclean.append(f"{module} exited {code}: {log.read_text()[-2000:]}")
        assert not unclean, "\n".join(unclean)


async def log_in(browser, base: str, username: str, password: str):
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/login")
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', password)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{base}/")
    return page


async def test_capture_escalate_and_resolve_in_the_browser(console_process):
    from playwright.async_api import async_playwright, expect

    base, grpc_target = console_process
    async with grpcio.channel(grpc_target) as channel:
        consumer = await contacts_pb2_grpc.ContactsStub(channel).CreateConsumer(
            cpb.CreateConsumerRequest(
                consumer=cpb.Consumer(name="Jane Doe", phones=[cpb.PhoneNumber(number="+16145550199")])
            ),
            timeout=5,
        )
    capture = "/cases/new?" + urllib.parse.urlencode(
        {"consumer_id": consumer.id, "call_id": "call-7f3a", "channel": "phone"}
    )

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            agent = await log_in(browser, base, "ada", "ada-demo-1001")
            await agent.goto(base + capture)
            await expect(agent.locator(".who")).to_contain_text("Ada Moreno")
            await expect(agent.locator("#consumer_id")).to_have_value(consumer.id)
            await expect(agent.locator("#call_id")).to_have_value("call-7f3a")
            await agent.fill("#issue_code", "complaint.quality.foreign_object.plastic")
            await expect(agent.locator("#issue_path")).to_contain_text("Foreign object")
            await agent.fill("#sku", "COC-500")
            await agent.fill("#product_name", "Crunchy Oat Clusters 500 g")
            await agent.fill("#lot_code", "L2419")
            await agent.fill("#best_by", "2025-03-01")
            await agent.fill("#verbatim", "A sharp piece of blue plastic was in my bowl.")
            await agent.click("#save")
            await agent.wait_for_url("**/cases/view?id=*")
            await expect(agent.locator("#details")).to_contain_text("lot L2419")
            await expect(agent.locator("#verbatim")).to_have_text(
                "A sharp piece of blue plastic was in my bowl."
            )
            reference = (await agent.locator("#reference").text_content()).strip()

            await agent.click("#escalate")  # without a reason
            await expect(agent.locator("#message")).to_contain_text("reason")
            await agent.fill("#reason", "Consumer wants to speak to a manager about a safety risk")
            await agent.click("#escalate")
            await expect(agent.locator("#timeline li[data-kind=escalated]")).to_have_count(1)
            await expect(agent.locator("#history")).to_contain_text(reference)
            # An escalated (safety) case is not the agent's to resolve: the console says so.
            await agent.select_option("#case-status", "resolved")
            await agent.click("#set-status")
            await expect(agent.locator("#message")).to_contain_text("only a supervisor may resolve")

            supervisor = await log_in(browser, base, "sam", "sam-demo-super")
            await supervisor.goto(base + "/cases/queue")
            row = supervisor.locator("#queue tr", has_text=reference)
            await expect(row).to_contain_text("safety risk")
            await row.get_by_role("link").click()
            await supervisor.wait_for_url("**/cases/view?id=*")
            await expect(supervisor.locator("#reference")).to_have_text(reference)  # the page is drawn
            await supervisor.click("#take")
            await expect(supervisor.locator("#timeline li[data-kind=assigned]")).to_have_count(1)
            await supervisor.fill("#action_code", "replacement_sent")
            await supervisor.click("#add-action")
            await expect(supervisor.locator("#timeline li[data-kind=action]")).to_have_count(1)
            await supervisor.select_option("#case-status", "resolved")
            await supervisor.fill("#status-note", "Apologised; replacement sent; sample to QA")
            await supervisor.click("#set-status")
            await expect(supervisor.locator("#stage")).to_have_text("resolved")
            # The timeline is drawn again after the stage: wait for the status entry before reading it.
            await expect(supervisor.locator("#timeline li[data-kind=status]")).to_have_count(1)
            kinds = await supervisor.locator("#timeline li").evaluate_all(
                "items => items.map(i => i.dataset.kind)"
            )
            assert kinds == ["created", "escalated", "assigned", "action", "status"]
            await expect(supervisor.locator("#timeline")).to_contain_text("by ada")
            await expect(supervisor.locator("#timeline")).to_contain_text("status: new → resolved")

            await supervisor.goto(base + "/cases/queue")
            await expect(supervisor.locator("#queue")).not_to_contain_text(reference)
            await supervisor.goto(base + "/cases/search")
            await supervisor.fill("#text", "plastic bowl")
            await supervisor.fill("#s_lot", "L2419")
            await supervisor.click("#search")
            await expect(supervisor.locator("#results tr", has_text=reference)).to_contain_text("resolved")

            # The agent may not open the supervisors' queue: the console says why.
            refused = await agent.goto(base + "/cases/queue")
            assert refused.status == 403
            await expect(agent.locator("p.error")).to_have_text("you do not have the permission cases.queue")
        finally:
            await browser.close()
