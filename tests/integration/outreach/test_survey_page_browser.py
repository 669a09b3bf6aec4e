"""The survey path a consumer walks, over real PostgreSQL and the console's public routes: the one-click
rating from the email's link is recorded, the page submits with JavaScript off, errors are announced, and
the answer is published with the case's team, agent and channel and noted on the case."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.support.survey_harness import (
    Clock,
    Outlets,
    desk_over,
    open_store,
    outreach_database,
    published,
    sent_survey,
    survey_app,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def database_url():
    with outreach_database("crs_surveys_page") as url:
        yield url


async def serving(database_url):
    store = await open_store(database_url)
    clock, outlets = Clock(), Outlets()
    desk = desk_over(store, clock, outlets)
    server = TestServer(survey_app(desk), host="127.0.0.1")
    await server.start_server()
    return store, desk, outlets, server


async def test_the_one_click_rating_in_the_email_is_recorded_once(database_url):
    store, desk, outlets, server = await serving(database_url)
    try:
        links = await sent_survey(desk, store, case_id="case-1", consumer_id="con-1", language="fr")
        base = str(server.make_url(""))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/s/{links['scores'][4]}") as response:
                assert response.status == 200
                assert "Merci" in await response.text()
            async with http.get(f"{base}/s/{links['scores'][1]}") as again:
                assert again.status == 200  # thanked, but the first answer stands
            async with http.get(f"{base}/s/{links['scores'][4][:-2]}xx") as altered:
                assert altered.status == 410
        assert [
            (t, d["score"], d["case_id"], d["team"], d["agent"], d["channel"])
            for t, d in await published(store)
        ] == [("survey_answered", 4, "case-1", "team-a", "agent-1", "email")]
        assert outlets.notes == [("case-1", "CSAT survey answered: 4 of 1-5")]
    finally:
        await server.close()
        await store.pool.close()


@pytest.mark.browser
async def test_the_page_submits_without_javascript_and_announces_a_missing_answer(database_url):
    from playwright.async_api import async_playwright, expect

    store, desk, outlets, server = await serving(database_url)
    try:
        links = await sent_survey(desk, store, case_id="case-2", consumer_id="con-2")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                context = await browser.new_context(java_script_enabled=False)
                page = await context.new_page()
                await page.goto(str(server.make_url(f"/s/{links['page']}")))
                await expect(page.get_by_role("group", name="How satisfied are you")).to_be_visible()
                await page.get_by_role("button", name="Send my answer").click()
                await expect(page.get_by_role("alert")).to_contain_text("choose a number from 1 to 5")
                await page.get_by_label("Anything you would like to add?").fill("quick and kind")
                await page.get_by_role("radio", name="5").check()
                await page.keyboard.press("Tab")
                await page.get_by_role("button", name="Send my answer").click()
                await expect(page.get_by_role("status")).to_have_text(
                    "Thank you. Your answer has been recorded."
                )
            finally:
                await browser.close()
        ((kind, data),) = [(t, d) for t, d in await published(store) if d["case_id"] == "case-2"]
        assert (kind, data["score"], data["case_id"], data["kind"]) == (
            "survey_answered",
            5,
            "case-2",
            "csat",
        )
        assert outlets.notes == [("case-2", "CSAT survey answered: 5 of 1-5; comment: quick and kind")]
    finally:
        await server.close()
        await store.pool.close()
