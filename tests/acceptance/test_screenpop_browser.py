"""The agent's and the supervisor's journey in Chromium, on the console's origin alone: sipp calls 1001
through the SIP edge, the pop shows the consumer, the agent captures and escalates beside the live pop,
the supervisor resolves from the queue, and the call's recording plays through the console.

Every service runs as its own process (`python -m services.<name>`) on free ports, with kamailio as the
SIP edge and the telephony service registered behind it, as `crs run` starts them.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc

from services.cli.seed import consumer_id
from services.runtime.grpcio import blocking_channel
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
    from services.billing.seed import seed_demo as billing
    from services.console.seed import seed_demo as console
    from services.contacts.seed import seed_demo as contacts
    from services.fulfillment.seed import seed_demo as fulfillment

    contacts(database_url, [consumer_id(i) for i in range(10)])
    billing(database_url)
    fulfillment(database_url)
    console(database_url)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(service_env, database_url, amqp_url, tmp_path_factory):
    seed_everything(database_url)
    names = ("contacts", "contacts_http", "billing", "fulfillment", "insights", "screenpop", "console")
    ports = {name: free_port() for name in names}
    tmp = tmp_path_factory.mktemp("screenpop-acceptance")
    env = dict(
        service_env,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_BILLING_GRPC=f"127.0.0.1:{ports['billing']}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{ports['fulfillment']}",
        CRS_INSIGHTS_GRPC=f"127.0.0.1:{ports['insights']}",
        CRS_SCREENPOP_GRPC=f"127.0.0.1:{ports['screenpop']}",
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
        # Where telephony (started below) stores recordings, and the console plays them from.
        CRS_RECORDINGS_URL=(tmp / "recordings").as_uri(),
    )
    started: list[ServiceProcess] = []
    edge = telephony = None
    try:
        for name in ("contacts", "billing", "fulfillment", "insights", "screenpop"):
            started.append(ServiceProcess(f"services.{name}", env).start(wait_port=ports[name]))
        console = ServiceProcess("services.console", env).start(wait_port=ports["console"])
        started.append(console)
        base = f"http://127.0.0.1:{ports['console']}"
        wait_for(
            lambda: console.alive_or_fail() and ready(f"{base}/readyz"), timeout=30, what="console ready"
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
        unclean = []
        if telephony is not None:
            unclean += [f"telephony exited {code}" for code in [telephony.process.stop()] if code != 0]
        if edge is not None:
            unclean += [f"edge exited {code}" for code in [edge.stop()] if code != 0]
        for process in reversed(started):
            if process.process.poll() is None:
                code = process.stop()
                if code != 0:
                    unclean.append(f"{process.module} exited {code}")
        assert not unclean, "; ".join(unclean)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# From `crs call` starting (a Python process, then sipp) to the pop on the page. The pop itself takes tens of
# milliseconds; the rest is process start-up, which on a busy two-core machine can take several seconds.
POP_WAIT = 30


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


# Demo consumer 8's account in the billing seed: a EUR 45.00 invoice, a EUR 20.00 payment, 30 days' terms.
BALANCE = "EUR 25.00"
TERMS = "Net 30"


def last_product(stack) -> str:
    """The first product of the caller's last order, as fulfillment holds it (its seed is random)."""
    fulfillment = fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(stack["env"]["CRS_FULFILLMENT_GRPC"]))
    history = fulfillment.GetPurchaseHistory(
        fulfillment_pb2.GetPurchaseHistoryRequest(consumer_id=consumer_id(CALLER_INDEX), last_orders=1),
        timeout=5,
    )
    return history.orders[0].lines[0].product.name


def test_a_call_to_1001_pops_the_consumer_in_the_agents_browser_and_not_on_1002(stack, browser):
    balance, terms, product = BALANCE, TERMS, last_product(stack)
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    ben = log_in(browser, stack["base"], "ben", "ben-demo-1002")
    call = place_call(stack, seconds=6)
    try:
        wait_for(
            lambda: text_of(ada, "consumer-name") == CALLER_NAME,
            timeout=POP_WAIT,
            what="the pop in 1001's page",
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


def test_beside_the_pop_an_agent_captures_and_escalates_the_supervisor_resolves_and_the_recording_plays(
    stack, browser
):
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    call = place_call(stack, seconds=4)
    sam = None
    try:
        wait_for(lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=POP_WAIT, what="the pop")
        ada.locator('[data-role="capture-contact"]').click()
        panel = ada.locator("#capture-panel")
        wait_for(lambda: panel.is_visible(), timeout=10, what="the capture form beside the pop")
        assert ada.url == stack["base"] + "/"  # the call's screen: the pop is still there
        assert text_of(ada, "consumer-name") == CALLER_NAME
        assert ada.locator("#capture-consumer").inner_text() == CALLER_NAME
        wait_for(
            lambda: "+14085550177" in ada.locator("#capture-numbers").inner_text(),
            timeout=10,
            what="the consumer's numbers",
        )
        assert "from +14085550177 to 1001" in ada.locator("#capture-call").inner_text()
        bought = ada.locator('#capture-product optgroup[label="Bought by this consumer"] option')
        wait_for(lambda: bought.count() > 0, timeout=10, what="the consumer's purchases in the picker")
        sku = bought.first.get_attribute("value")
        ada.select_option("#capture-product", sku)
        assert ada.locator("#capture-sku").input_value() == sku
        name = ada.locator("#capture-product-name").input_value()
        assert name and bought.first.inner_text().startswith(name)
        ada.fill("#capture-issue", "complaint.quality.foreign_object.plastic")
        ada.fill("#capture-lot", "L2419")
        ada.fill("#capture-verbatim", "There was a hard piece of plastic in the cereal.")
        ada.click("#capture-save")
        reference = wait_for(
            lambda: ada.locator("#capture-reference").inner_text().strip(),
            timeout=10,
            what="the saved case's reference",
        )
        ada.fill("#capture-reason", "Consumer asks for a call back from quality assurance")
        ada.click("#capture-escalate")
        wait_for(
            lambda: "escalated" in ada.locator("#capture-stage").inner_text(),
            timeout=10,
            what="the escalation, shown beside the pop",
        )
        case_url = ada.locator("#capture-reference").get_attribute("href")
        assert call.wait(timeout=30) == 0, call.stdout.read()

        sam = log_in(browser, stack["base"], "sam", "sam-demo-super")
        sam.locator("nav.cases a", has_text="Escalations").click()
        sam.wait_for_url("**/cases/queue*", timeout=10_000)
        # The reference ("#12") is matched exactly: other cases in the queue may be "#120" or "#123".
        case_link = sam.locator("#queue").get_by_role("link", name=reference, exact=True)
        wait_for(lambda: case_link.count() == 1, timeout=10, what="the case in the supervisor's queue")
        case_link.click()
        sam.wait_for_url("**/cases/view?id=*", timeout=10_000)
        assert sam.url.endswith(case_url)
        wait_for(
            lambda: sam.locator("#reference").inner_text().strip() == reference, timeout=10, what="the case"
        )
        sam.select_option("#case-status", "resolved")
        sam.fill("#status-note", "Called back; replacement sent")
        sam.click("#set-status")
        wait_for(
            lambda: sam.locator("#stage").inner_text() == "resolved", timeout=10, what="the case resolved"
        )
        # The timeline is fetched after the case itself: wait for the resolution's line to be drawn.
        wait_for(
            lambda: sam.locator("#timeline li[data-kind=status]").count() >= 1,
            timeout=10,
            what="the status line",
        )
        kinds = sam.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
        assert kinds[0] == "created" and "escalated" in kinds and kinds[-1] == "status"
        assert "by ada" in sam.locator("#timeline").inner_text()
        assert "by sam" in sam.locator("#timeline").inner_text()

        # The recording: the page's player names the console's own route, which streams the call's audio
        # to a signed-in person and to nobody else.
        player = sam.locator("#recordings audio")
        wait_for(lambda: player.count() == 1, timeout=20, what="the call's recording on the case")
        src = player.get_attribute("src")
        assert src.startswith("/recordings/")
        played = sam.request.get(stack["base"] + src)
        assert played.status == 200 and played.headers["content-type"] == "audio/wav"
        assert played.body()[:4] == b"RIFF" and len(played.body()) > 1000
        stranger = urllib.request.Request(stack["base"] + src)
        try:
            with urllib.request.urlopen(stranger, timeout=5) as reply:
                assert reply.geturl().endswith("/login")  # sent to log in, never the audio
        except urllib.error.HTTPError as exc:
            assert exc.code in (401, 403)
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
        wait_for(
            lambda: text_of(ada, "consumer-name") == CALLER_NAME, timeout=POP_WAIT, what="the partial pop"
        )
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


def test_the_agent_pauses_the_recording_from_the_pop_and_after_a_reload_the_pop_still_says_so(stack, browser):
    """The console has no CRS_TELEPHONY_GRPC of its own in this stack: the pause reaches telephony at the
    address its call_ringing named, as it would reach the one replica of several that holds the call."""
    ada = log_in(browser, stack["base"], "ada", "ada-demo-1001")
    call = place_call(stack, seconds=12)
    try:
        toggle = ada.locator('[data-role="recording-toggle"]')
        wait_for(lambda: toggle.count() == 1 and toggle.is_enabled(), timeout=15, what="the answered pop")
        assert toggle.inner_text() == "Pause recording"
        pop = ada.request.get(stack["base"] + "/api/pop?extension=1001").json()["pop"]
        assert "telephony_control" not in pop  # where telephony holds the call is not the browser's
        toggle.click()
        wait_for(lambda: text_of(ada, "recording-state") == "Recording paused", timeout=5, what="the pause")

        ada.reload()
        wait_for(lambda: ada.locator("#status").inner_text() == "Connected", timeout=10, what="the socket")
        toggle = ada.locator('[data-role="recording-toggle"]')
        wait_for(
            lambda: toggle.count() == 1 and toggle.is_enabled() and toggle.inner_text() == "Resume recording",
            timeout=10,
            what="the pop drawn again, still paused",
        )
        assert text_of(ada, "recording-state") == "Recording paused"
        toggle.click()
        wait_for(lambda: text_of(ada, "recording-state") == "Recording", timeout=5, what="the resumption")
        assert toggle.inner_text() == "Pause recording"
        assert call.wait(timeout=30) == 0, call.stdout.read()
    finally:
        if call.poll() is None:
            call.kill()
            call.wait()
        ada.close()

    with blocking_channel(stack["env"]["CRS_CONTACTS_GRPC"]) as channel:
        casework = casework_pb2_grpc.CaseworkStub(channel)

        def filed():
            try:
                return casework.GetCall(casework_pb2.GetCallRequest(call_id=pop["call_id"]), timeout=5)
            except Exception:
                return None

        filed_call = wait_for(filed, timeout=30, what="the call filed with its recording's pauses")
    (span,) = filed_call.paused
    assert (span.paused_by, span.resumed_by) == ("ada", "ada")
    assert 0 < span.start_seconds < span.end_seconds
