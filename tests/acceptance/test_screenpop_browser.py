"""The pop as an agent sees it: sipp calls 1001 through the SIP edge, and Chromium shows the consumer.

Every service runs as its own process (`python -m services.<name>`) on free ports, with kamailio as the
SIP edge and the telephony service registered behind it, as `crs run` starts them.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc

from services.cli.seed import consumer_id
from services.runtime.grpcio import blocking_channel
from services.screenpop.compose import format_money
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.sip]

CALLER = "+1 408 555 0177"  # demo consumer 8 in the contacts seed
CALLER_NAME = "Priya Patel"
CALLER_INDEX = 8
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def seed_everything(database_url: str) -> None:
    from services.screenpop.seed import seed_demo as screenpop

    from services.billing.seed import seed_demo as billing
    from services.contacts.seed import seed_demo as contacts
    from services.fulfillment.seed import seed_demo as fulfillment

    contacts(database_url, [consumer_id(i) for i in range(10)])
    billing(database_url)
    fulfillment(database_url)
    screenpop(database_url)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(service_env, database_url, amqp_url, tmp_path_factory):
    seed_everything(database_url)
    ports = {
        name: free_port() for name in ("contacts", "contacts_http", "billing", "fulfillment", "screenpop")
    }
    env = dict(
        service_env,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_BILLING_GRPC=f"127.0.0.1:{ports['billing']}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{ports['fulfillment']}",
        CRS_SCREENPOP_HTTP=f"127.0.0.1:{ports['screenpop']}",
        CRS_CONTACTS_PUBLIC_URL=f"http://127.0.0.1:{ports['contacts_http']}",
    )
    started: list[ServiceProcess] = []
    tmp = tmp_path_factory.mktemp("screenpop-acceptance")
    edge = telephony = None
    try:
        for name in ("contacts", "billing", "fulfillment"):
            started.append(ServiceProcess(f"services.{name}", env).start(wait_port=ports[name]))
        screenpop = ServiceProcess("services.screenpop", env).start(wait_port=ports["screenpop"])
        started.append(screenpop)
        base = f"http://127.0.0.1:{ports['screenpop']}"
        wait_for(
            lambda: screenpop.alive_or_fail() and ready(f"{base}/readyz"), timeout=30, what="screenpop ready"
        )
        edge, edge_address = start_edge(tmp)
        telephony = start_telephony(tmp, amqp_url=amqp_url, edge=edge_address)
        yield {
            "base": base,
            "env": {**env, "CRS_SIP_EDGE": edge_address},
            "processes": {p.module: p for p in started},
            "tmp": tmp,
        }
    finally:
        if telephony is not None:
            telephony.process.stop()
        if edge is not None:
            edge.stop()
        for process in reversed(started):
            if process.process.poll() is None:
                process.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def log_in(browser, base: str, username: str, password: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    wait_for(lambda: page.locator("#status").inner_text() == "Connected", timeout=10, what="the socket")
    return page


def place_call(stack, *, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli.main",
            "call",
            "--to",
            "1001",
            "--from",
            CALLER,
            "--seconds",
            str(seconds),
        ],
        env=stack["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def text_of(page, role: str) -> str:
    found = page.locator(f'[data-role="{role}"]')
    return found.first.inner_text() if found.count() else ""


def expected_figures(stack) -> tuple[str, str, str]:
    """The balance, payment terms and last purchase's first product, as billing and fulfillment hold them."""
    env = stack["env"]
    who = consumer_id(CALLER_INDEX)
    billing = billing_pb2_grpc.BillingStub(blocking_channel(env["CRS_BILLING_GRPC"]))
    summary = billing.GetAccountSummary(billing_pb2.GetAccountSummaryRequest(consumer_id=who), timeout=5)
    fulfillment = fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(env["CRS_FULFILLMENT_GRPC"]))
    history = fulfillment.GetPurchaseHistory(
        fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=who, last_orders=1), timeout=5
    )
    balance = format_money(
        {"currency": summary.balance.currency, "amount_minor": summary.balance.amount_minor}
    )
    return balance["display"], summary.credit_terms.payment_terms, history.orders[0].lines[0].product.name


def test_a_call_to_1001_pops_the_consumer_in_the_agents_browser_and_not_on_1002(stack, browser):
    balance, terms, product = expected_figures(stack)
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    ben = log_in(browser, stack["base"], "ben", "ben-demo-1002")
    call = place_call(stack, seconds=6)
    try:
        wait_for(
            lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=10, what="the pop in 1001's page"
        )
        assert text_of(ada, "balance") == balance
        assert terms in text_of(ada, "credit-terms")
        assert product in text_of(ada, "last-purchase")
        assert text_of(ada, "partial") == ""
        ada.screenshot(path=str(stack["tmp"] / "console-pop.png"), full_page=True)

        assert ben.locator('[data-role="consumer-name"]').count() == 0
        assert "Waiting for a call." in ben.locator("section.pop").inner_text()

        ada.reload()
        wait_for(
            lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=10, what="the pop after a refresh"
        )
        assert text_of(ada, "balance") == balance

        assert call.wait(timeout=30) == 0, call.stdout.read()
        wait_for(
            lambda: ada.locator('[data-role="consumer-name"]').count() == 0,
            timeout=15,
            what="the pop to clear when the call ends",
        )
        assert ben.locator('[data-role="consumer-name"]').count() == 0
    finally:
        if call.poll() is None:
            call.kill()
            call.wait()
        ada.close()
        ben.close()


def test_from_the_pop_an_agent_captures_and_escalates_a_complaint_and_the_supervisor_resolves_it(
    stack, browser
):
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    call = place_call(stack, seconds=8)
    sam = None
    try:
        wait_for(lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=10, what="the pop")
        ada.locator('[data-role="capture-contact"]').click()
        ada.wait_for_url("**/cases/new?*", timeout=10_000)
        assert ada.locator("#consumer_id").input_value() == consumer_id(CALLER_INDEX)
        assert ada.locator("#call_id").input_value()  # the ringing call, carried from the pop
        ada.fill("#issue_code", "complaint.quality.foreign_object.plastic")
        ada.fill("#sku", "COC-500")
        ada.fill("#lot_code", "L2419")
        ada.fill("#verbatim", "There was a hard piece of plastic in the cereal.")
        ada.click("#save")
        ada.wait_for_url("**/cases/view?id=*", timeout=10_000)
        # The case page draws itself after its API call: read the reference once it is there.
        reference = wait_for(
            lambda: ada.locator("#reference").inner_text().strip(),
            timeout=10,
            what="the saved case's reference",
        )
        ada.fill("#reason", "Consumer asks for a call back from quality assurance")
        ada.click("#escalate")
        wait_for(
            lambda: ada.locator("#timeline li[data-kind=escalated]").count() == 1,
            timeout=10,
            what="the escalation on the timeline",
        )

        sam = log_in(browser, stack["base"], "sam", "sam-demo-super")
        sam.locator("nav.cases a", has_text="Escalations").click()
        sam.wait_for_url("**/cases/queue*", timeout=10_000)
        # The reference ("#12") is matched exactly: other cases in the queue may be "#120" or "#123".
        case_link = sam.locator("#queue").get_by_role("link", name=reference, exact=True)
        wait_for(lambda: case_link.count() == 1, timeout=10, what="the case in the supervisor's queue")
        case_link.click()
        sam.wait_for_url("**/cases/view?id=*", timeout=10_000)
        wait_for(
            lambda: sam.locator("#reference").inner_text().strip() == reference, timeout=10, what="the case"
        )
        sam.select_option("#status", "resolved")
        sam.fill("#status-note", "Called back; replacement sent")
        sam.click("#set-status")
        wait_for(
            lambda: sam.locator("#stage").inner_text() == "resolved", timeout=10, what="the case resolved"
        )
        kinds = sam.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
        assert kinds[:2] == ["created", "escalated"] and kinds[-1] == "status"
        assert "by ada" in sam.locator("#timeline").inner_text()
        assert call.wait(timeout=30) == 0, call.stdout.read()
    finally:
        if call.poll() is None:
            call.kill()
            call.wait()
        ada.close()
        if sam is not None:
            sam.close()


def test_with_billing_stopped_the_pop_still_comes_marked_partial(stack, browser):
    billing = stack["processes"]["services.billing"]
    assert billing.stop() == 0
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    call = place_call(stack, seconds=3)
    try:
        wait_for(lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=10, what="the partial pop")
        assert "billing" in text_of(ada, "partial")
        assert text_of(ada, "balance") == "not available"
        assert text_of(ada, "last-purchase") not in ("", "none", "not available")
        ada.screenshot(path=str(stack["tmp"] / "console-partial.png"), full_page=True)
        assert call.wait(timeout=30) == 0, call.stdout.read()
    finally:
        if call.poll() is None:
            call.kill()
            call.wait()
        ada.close()
