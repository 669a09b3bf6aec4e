"""Segments and campaigns in a real browser: sam (supervisor) makes a segment of a cohort and sees its size
before he saves it, makes a campaign to it, sends himself a test, starts it, and watches its progress on the
campaign's page refresh by itself until it is finished, with every consented consumer's mail in the sink.

Channels, outreach and the console run as their own processes on a database and a vhost of this module's
own; the cohort's consumers are in outreach's read model, three who agreed to marketing and one who did not.
"""

from __future__ import annotations

import uuid

import pytest

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.integration.outreach.test_notices_to_sink import sink_mail
from tests.support import infra
from tests.support.mail_sink import channels_env
from tests.support.outreach_cohort import consumers_of_a_cohort
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for, wait_for

pytestmark = pytest.mark.browser
RUN = uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def own_database():
    with infra.migrated_database("crs_campaign_browser") as url:
        yield url


@pytest.fixture(scope="module")
def own_vhost():
    with infra.own_vhost("crs-campaign-browser") as url:
        yield url


@pytest.fixture(scope="module")
def stack(service_env, own_database, own_vhost, tmp_path_factory):
    from services.console import seed

    seed.seed_demo(own_database)
    sink = tmp_path_factory.mktemp("campaign-sink")
    ports = {name: free_port() for name in ("console", "channels", "outreach")}
    base_env = {**service_env, "CRS_DATABASE_URL": own_database, "CRS_AMQP_URL": own_vhost}
    env = {
        **channels_env(base_env, sink, ports["channels"])[0],
        "CRS_OUTREACH_GRPC": f"127.0.0.1:{ports['outreach']}",
        "CRS_OUTREACH_SENDER_IDLE": "0.2",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path_factory.mktemp('recordings')}",
    }
    with running(
        env,
        (
            ("services.channels", ports["channels"]),
            ("services.outreach", ports["outreach"]),
            ("services.console", ports["console"]),
        ),
    ):
        base = f"http://127.0.0.1:{ports['console']}"
        wait_for(lambda: healthy(base), timeout=30, what="the console")
        yield base, sink


async def test_sam_makes_a_segment_sees_its_size_and_watches_his_campaign_to_it_finish(stack, own_database):
    from playwright.async_api import async_playwright, expect

    base, sink = stack
    await consumers_of_a_cohort(own_database, RUN, consented=3, others=1)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            sam = await log_in(browser, base, "sam", "sam-demo-super")
            await sam.click("nav >> text=Segments")
            await sam.click("#new-segment")
            await sam.fill('input[name="name"]', f"Cohort {RUN}")
            await sam.fill('textarea[name="attributes"]', f"cohort={RUN}")
            await sam.fill('input[name="languages"]', "en")
            await sam.click("text=Count the consumers")
            # The one who did not agree to marketing is not counted.
            await expect(sam.locator("#segment-size")).to_have_text("3 consumers match now.")
            await expect(sam.locator('textarea[name="attributes"]')).to_have_value(f"cohort={RUN}")
            await sam.click("text=Save the segment")
            await expect(sam.locator("h1")).to_have_text(f"Cohort {RUN}")
            await expect(sam.locator("#segment-size")).to_have_text("3")

            await sam.click("#new-campaign")
            await expect(sam.locator('select[name="segment_id"]')).to_contain_text(
                f"Cohort {RUN} (3 consumers now)"
            )
            await sam.fill('input[name="name"]', f"Spring {RUN}")
            await sam.fill('input[name="subject"]', "Spring recipes")
            await sam.fill('textarea[name="body"]', "Three quick breakfasts.")
            await sam.fill('input[name="rate_per_second"]', "1")
            await sam.click("text=Make the draft")
            await expect(sam.locator("#campaign-state")).to_have_text("draft")
            await expect(sam.locator("#move-start")).to_have_count(0)  # no start before a test send

            await sam.fill('input[name="test_to"]', f"sam-{RUN}@example.org")
            await sam.get_by_role("button", name="Send a test").click()
            await expect(sam.locator("#campaign-done")).to_have_text(f"a test went to sam-{RUN}@example.org")
            await expect(sam.locator("#campaign-state")).to_have_text("tested")
            await sam.click("#move-start")
            await expect(sam.locator("#campaign-state")).to_have_text("running")
            await expect(sam.locator('[data-progress="total"]')).to_have_text("3")
            # At one a second the figures move while the page stays open, then the page shows it finished.
            await expect(sam.locator("#campaign-state")).to_have_text("finished", timeout=30_000)
            await expect(sam.locator('[data-progress="sent"]')).to_have_text("3")
            await expect(sam.locator('[data-progress="remaining"]')).to_have_text("0")
            await expect(sam.locator("#campaign-moves")).to_have_count(0)

            await sam.click("nav >> text=Campaigns")
            row = sam.locator("#campaign-list tr", has_text=f"Spring {RUN}")
            await expect(row).to_contain_text("finished")
            await expect(row).to_contain_text(f"Cohort {RUN}")
        finally:
            await browser.close()
    mail = await async_wait_for(lambda: _mail(sink, 4), timeout=30, what="the test and 3 campaign mails")
    assert sorted(str(m["Subject"]) for m in mail) == ["Spring recipes"] * 3 + ["[Test] Spring recipes"]


async def _mail(sink, count: int):
    found = sink_mail(sink, RUN)
    return found if len(found) >= count else None
