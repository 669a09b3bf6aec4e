"""In Chromium, the chat widget on a page of another origin (the brand's site, a static server of its own):
the consumer chats with ada, who answers in the console, and the transcript is on the case; with no agent
available, the consumer leaves a message and it becomes an email case.

Contacts, channels and the console run as their own processes; the widget's script and socket are
channels', and the page that carries it is served from another port.
"""

from __future__ import annotations

import re
import subprocess
import sys

import psycopg
import pytest

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, free_port, healthy, log_in
from tests.support.wait import wait_for

pytestmark = pytest.mark.browser

BRAND_PAGE = """<!doctype html><html lang="en"><head><title>Oat Co.</title></head>
<body><h1>Oat Co. cereals</h1><script src="{widget}" async></script></body></html>"""


def start(module_or_args, env, log, url):
    args = module_or_args if isinstance(module_or_args, list) else [sys.executable, "-m", module_or_args]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    wait_for(lambda: healthy(url) or process.poll() is not None, timeout=30, what=f"{args[-1]} to listen")
    assert process.poll() is None, log.read_text()[-3000:]
    return process


@pytest.fixture
def chat_stack(service_env, database_url, tmp_path):
    from services.console.seed import seed_demo

    seed_demo(database_url)
    ports = {
        name: free_port()
        for name in (
            "console",
            "contacts_grpc",
            "contacts_http",
            "channels",
            "chat",
            "smtp",
            "sink",
            "brand",
            "demo",
            "web_form",
        )
    }
    brand = f"http://127.0.0.1:{ports['brand']}"
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['contacts_http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts_grpc']}",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{ports['channels']}",
        # No knowledge service answers here: the chat goes to an agent or becomes a message, as without
        # the assistant (test_chat_assistant_browser.py has it).
        "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{free_port()}",
        "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{ports['chat']}",
        "CRS_CHANNELS_CHAT_ORIGINS": brand,
        "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{ports['demo']}",
        "CRS_CHANNELS_WEB_FORM_BIND": f"127.0.0.1:{ports['web_form']}",
        "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{ports['smtp']}",
        "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{ports['sink']}",
        "CRS_CHANNELS_SINK_DIR": str(tmp_path / "sink"),
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
    }
    site = tmp_path / "brand"
    site.mkdir()
    (site / "index.html").write_text(
        BRAND_PAGE.format(widget=f"http://127.0.0.1:{ports['chat']}/chat/widget.js")
    )
    (site / "healthz").write_text("ok")
    processes = []
    try:
        for what, url in (
            ("services.contacts", f"http://127.0.0.1:{ports['contacts_http']}"),
            ("services.channels", f"http://127.0.0.1:{ports['chat']}"),
            ("services.console", f"http://127.0.0.1:{ports['console']}"),
            (
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    str(ports["brand"]),
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                    str(site),
                ],
                brand,
            ),
        ):
            name = what if isinstance(what, str) else "brand-site"
            log = tmp_path / f"{name}.log"
            processes.append((name, start(what, env, log, url), log))
        yield f"http://127.0.0.1:{ports['console']}", brand
    finally:
        unclean = []
        for name, process, log in reversed(processes):
            process.terminate()
            code = process.wait(timeout=30)
            # The static server has no handler for SIGTERM; the services must stop cleanly.
            if code not in ((0, -15) if name == "brand-site" else (0,)):
                unclean.append(f"{name} exited {code}: {log.read_text()[-2000:]}")
        assert not unclean, "\n".join(unclean)


async def consumer_page(browser, brand, path="/index.html"):
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(brand + path)
    await page.locator("#crs-chat .launch").click()
    return page


async def test_a_consumer_on_another_site_chats_with_ada_and_the_transcript_is_on_the_case(chat_stack):
    from playwright.async_api import async_playwright, expect

    console, brand = chat_stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ada = await log_in(browser, console, "ada", "ada-demo-1001")
            await ada.goto(console + "/chats")
            await expect(ada.locator("#status")).to_contain_text("Available for chat")

            consumer = await consumer_page(browser, brand)
            start = consumer.locator("#crs-chat form.start")
            await expect(start).to_be_visible()
            await start.locator('input[name="name"]').fill("Jane Doe")
            await start.locator("textarea").fill("There was plastic in my oat clusters")
            await start.locator('button[type="submit"]').click()
            await expect(consumer.locator("#crs-chat .status")).to_contain_text("Connected: case")

            chat = ada.locator("section.chat").first
            await expect(chat.locator(".theirs .body")).to_have_text("There was plastic in my oat clusters")
            await expect(chat.locator('[data-role="who"]')).to_have_text("Jane Doe")
            # ada's screen shows the line: the consumer's widget says it was delivered
            await expect(consumer.locator("#crs-chat li.mine .state")).to_have_text("delivered")

            say = consumer.locator("#crs-chat form.say textarea")
            await say.press_sequentially("The lot is")
            await expect(chat.locator('[data-role="typing"]')).to_contain_text("typing")
            await chat.locator("textarea").press_sequentially("I am sorry. What")
            await expect(consumer.locator("#crs-chat .typing")).to_contain_text("typing")
            await chat.locator("textarea").fill("I am sorry. What is the lot code on the box?")
            await chat.locator('button[type="submit"]').click()
            await expect(consumer.locator("#crs-chat li.theirs .body")).to_have_text(
                "I am sorry. What is the lot code on the box?"
            )
            await expect(consumer.locator("#crs-chat li.theirs b")).to_contain_text("Ada Moreno")
            await expect(chat.locator(".mine .state")).to_have_text("delivered")
            await say.fill("L2417 best before May")
            await consumer.locator('#crs-chat form.say button[type="submit"]').click()
            await expect(chat.locator(".theirs .body").nth(1)).to_have_text("L2417 best before May")

            # Files both ways, by the attach buttons; a lying one is refused and the chat goes on.
            png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
            await consumer.locator("#crs-chat input.file").set_input_files(
                {"name": "box.png", "mimeType": "image/png", "buffer": png}
            )
            await expect(chat.locator("a.body")).to_contain_text("box.png (image/png")
            await chat.locator('[data-role="file"]').set_input_files(
                {"name": "refund.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
            )
            await expect(consumer.locator("#crs-chat li.theirs a.body")).to_contain_text("refund.pdf")
            await consumer.locator("#crs-chat input.file").set_input_files(
                {"name": "cat.png", "mimeType": "image/png", "buffer": b"MZ" + bytes(64)}
            )
            await expect(consumer.locator("#crs-chat .status")).to_contain_text("The file was not sent: only")

            await chat.locator('[data-role="case"]').click()
            await ada.wait_for_url(re.compile(r"/cases/view\?id="))
            messages = ada.locator("#messages")
            for text in (
                "There was plastic in my oat clusters",
                "I am sorry. What is the lot code on the box?",
                "L2417 best before May",
            ):
                await expect(messages).to_contain_text(text)
            await expect(messages.locator("a", has_text="box.png")).to_have_attribute(
                "href", re.compile(r"^/attachments/")
            )
            await expect(ada.locator("#reply-form")).to_be_hidden()
        finally:
            await browser.close()


async def test_with_no_agent_available_the_chat_becomes_a_message(chat_stack, database_url):
    from playwright.async_api import async_playwright, expect

    _, brand = chat_stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            consumer = await consumer_page(browser, brand)
            # The assistant is offered, but knowledge does not answer and no agent is free.
            start_form = consumer.locator("#crs-chat form.start")
            await start_form.locator("textarea").fill("Please call me back about the plastic in my cereal")
            await start_form.locator('button[type="submit"]').click()
            leave = consumer.locator("#crs-chat form.leave")
            await expect(leave).to_be_visible()
            await expect(consumer.locator("#crs-chat .status")).to_contain_text("leave us a message")
            await expect(leave.locator("textarea")).to_have_value(
                "Please call me back about the plastic in my cereal"
            )
            await leave.locator('input[name="email"]').fill("jane@example.com")
            await leave.locator('button[type="submit"]').click()
            status = consumer.locator("#crs-chat .status")
            await expect(status).to_contain_text("your message is case")
            reference = int(re.search(r"case (\d+)", await status.text_content()).group(1))
        finally:
            await browser.close()
    with psycopg.connect(database_url) as conn:
        channel, verbatim = conn.execute(
            "SELECT channel, verbatim FROM contacts.contact WHERE reference = %s", (reference,)
        ).fetchone()
    assert channel == "email"
    assert "Please call me back about the plastic in my cereal" in verbatim
