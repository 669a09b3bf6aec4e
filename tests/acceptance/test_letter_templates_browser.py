"""In the browser: an admin edits the apology letter's French paragraph on the Letters page, and the preview
PDF prints it; a supervisor reads the page without the form."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, healthy, log_in
from tests.support import infra
from tests.support.processes import free_port, running
from tests.support.wait import wait_for

pytestmark = pytest.mark.browser
NEW_PARAGRAPH = "Nous vous offrons un bon de réduction en dédommagement."


@pytest.fixture(scope="module")
def stack(service_env):
    """The console and fulfillment on a database of this module's own, as the edit changes a seeded letter."""
    from services.console.seed import seed_demo as seed_logins
    from services.console.seed import upsert_agent
    from services.runtime import db

    with infra.migrated_database("crs_letters_browser") as database_url:
        seed_logins(database_url)
        with db.connect(database_url, schema="console") as conn:
            upsert_agent(conn, username="olga", display_name="Olga Admin", password="olga-admin-pass",
                         role="admin", extension=None, team_id=None)  # fmt: skip
            conn.commit()
        ports = {name: free_port() for name in ("console", "contacts", "http", "billing", "fulfil")}
        env = {
            **service_env,
            "CRS_DATABASE_URL": database_url,
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
            "CRS_BILLING_GRPC": f"127.0.0.1:{ports['billing']}",
            "CRS_FULFILLMENT_GRPC": f"127.0.0.1:{ports['fulfil']}",
            "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        }
        with running(
            env,
            (
                ("services.contacts", ports["contacts"]),
                ("services.billing", ports["billing"]),
                ("services.fulfillment", ports["fulfil"]),
                ("services.console", ports["console"]),
            ),
        ):
            base = f"http://127.0.0.1:{ports['console']}"
            wait_for(lambda: healthy(base), timeout=30, what="the console")
            yield base


async def test_an_admin_edits_the_french_apology_and_the_preview_prints_it(stack):
    from playwright.async_api import async_playwright, expect

    base = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            admin = await log_in(browser, base, "olga", "olga-admin-pass")
            await admin.click("nav a:has-text('Letter templates')")
            french = admin.locator("#letter-templates tr[data-name=apology][data-language=fr]")
            await french.locator("button", has_text="Edit").click()
            await expect(admin.locator("#letter-subject")).to_have_value("Toutes nos excuses")
            # A placeholder letters do not fill is refused, naming it.
            await admin.fill("#letter-paragraphs", "Votre dossier {case_ref}.")
            await admin.click("#save-letter")
            await expect(admin.locator("#message")).to_contain_text("{case_ref}")
            await admin.fill("#letter-paragraphs", f"{NEW_PARAGRAPH}\n\nNotre service qualité va examiner.")
            await admin.click("#save-letter")
            await expect(admin.locator("#message")).to_have_text(
                "apology (fr) saved; the next letter uses it."
            )
            await expect(admin.locator("#letter-changes tr").first).to_contain_text("olga")
            await expect(admin.locator("#letter-changes tr").first).to_contain_text(NEW_PARAGRAPH)

            link = french.locator("a", has_text="Preview")
            async with admin.expect_popup() as popup:
                await link.click()
            await (await popup.value).close()
            reply = await admin.request.get(base + await link.get_attribute("href"))
            assert reply.headers["content-type"] == "application/pdf"
            pdf = PdfReader(io.BytesIO(await reply.body()))
            text = "\n".join(page.extract_text() for page in pdf.pages)
            assert NEW_PARAGRAPH in text and "Camille Exemple" in text

            supervisor = await log_in(browser, base, "sam", "sam-demo-super")
            await supervisor.click("nav a:has-text('Letter templates')")
            await expect(supervisor.locator("#letter-templates tr[data-name=apology]")).to_have_count(3)
            await expect(supervisor.locator("#letter-form")).to_have_count(0)
        finally:
            await browser.close()


async def preview_text(page, base: str, row) -> str:
    reply = await page.request.get(base + await row.locator("a", has_text="Preview").get_attribute("href"))
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(await reply.body())).pages)


async def test_an_admin_writes_a_standard_paragraph_a_letter_names_and_its_edit_reaches_the_preview(stack):
    from playwright.async_api import async_playwright, expect

    base = stack
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            admin = await log_in(browser, base, "olga", "olga-admin-pass")
            await admin.click("nav a:has-text('Letter templates')")
            await admin.fill("#paragraph-name", "apology_mould")
            await admin.select_option("#paragraph-language", "en")
            await admin.fill("#paragraph-text", "We are sorry the bread had mould on it.")
            await admin.click("#save-paragraph")
            await expect(admin.locator("#message")).to_contain_text("apology_mould (en) saved")
            await expect(admin.locator("#standard-paragraphs tr[data-name=apology_mould]")).to_contain_text(
                "olga"
            )

            await admin.fill("#letter-name", "mould")
            await admin.fill("#letter-subject", "About the mould")
            await admin.fill("#letter-closing", "Consumer Care")
            await admin.fill("#letter-paragraphs", "{{paragraph:apology_mold}}")
            await admin.click("#save-letter")
            await expect(admin.locator("#message")).to_contain_text("no standard paragraph 'apology_mold'")
            await admin.fill("#letter-paragraphs", "Thank you for writing.\n\n{{paragraph:apology_mould}}")
            await admin.click("#save-letter")
            await expect(admin.locator("#message")).to_have_text("mould (en) saved; the next letter uses it.")
            letter = admin.locator("#letter-templates tr[data-name=mould][data-language=en]")
            assert "bread had mould" in await preview_text(admin, base, letter)

            paragraph = admin.locator("#standard-paragraphs tr[data-name=apology_mould]")
            await paragraph.locator("button", has_text="Edit").click()
            await admin.fill("#paragraph-text", "We apologise for the mould you found on the loaf.")
            await admin.click("#save-paragraph")
            await expect(paragraph).to_contain_text("mould you found on the loaf")
            assert "mould you found on the loaf" in await preview_text(admin, base, letter)

            await paragraph.locator("button", has_text="Retire").click()
            await expect(admin.locator("#message")).to_contain_text("still named by mould (en)")
        finally:
            await browser.close()
