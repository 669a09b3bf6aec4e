"""In Chromium: a consumer's email becomes a case; ada opens it, picks a reply template in the consumer's
language, edits it and sends it; the reply arrives in the development mail sink, threaded, and an admin
finds it on the Mail sink page. The admin adds a template on the Reply templates page and it is offered on
the next reply.

Contacts, channels and the console run as their own processes, as `make run` starts them.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import subprocess
import sys
from email.message import EmailMessage

import psycopg
import pytest

from tests.acceptance.test_casework_browser import ARGS, CHROMIUM, free_port, healthy, log_in
from tests.support.wait import wait_for

pytestmark = pytest.mark.browser
ADMIN_PASSWORD = "root-test-password"


@pytest.fixture
def mail_stack(service_env, database_url, tmp_path):
    from services.console.seed import SCHEMA, seed_demo, upsert_agent
    from services.runtime import db

    seed_demo(database_url)
    with db.connect(database_url, schema=SCHEMA) as conn:
        upsert_agent(conn, username="root", display_name="Root Admin", password=ADMIN_PASSWORD, role="admin",
                     extension=None, team_id=None)  # fmt: skip
        conn.commit()
    ports = {
        name: free_port()
        for name in ("console", "contacts_grpc", "contacts_http", "channels", "chat", "smtp", "sink")
    }
    env = {
        **service_env,
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['contacts_http']}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts_grpc']}",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{ports['channels']}",
        "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{ports['chat']}",
        "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{free_port()}",
        "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{ports['smtp']}",
        "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{ports['sink']}",
        "CRS_CHANNELS_SINK_DIR": str(tmp_path / "sink"),
        "CRS_CHANNELS_FROM": "care@crs.localhost",
        "CRS_CHANNELS_EMAIL_ACK": "0",
        "CRS_CHANNELS_OUTBOX_INTERVAL": "0.5",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": f"file://{tmp_path}",
    }
    processes = []
    try:
        for module, url in (
            ("services.contacts", f"http://127.0.0.1:{ports['contacts_http']}"),
            ("services.channels", f"http://127.0.0.1:{ports['chat']}"),
            ("services.console", f"http://127.0.0.1:{ports['console']}"),
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
        yield f"http://127.0.0.1:{ports['console']}", ports["smtp"], tmp_path / "sink" / "new"
    finally:
        unclean = []
        for module, process, log in reversed(processes):
            process.terminate()
            if process.wait(timeout=30) != 0:
                unclean.append(f"{module} exited {process.returncode}: {log.read_text()[-2000:]}")
        assert not unclean, "\n".join(unclean)


def send(port: int, sender: str, subject: str, body: str, message_id: str) -> None:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, "care@crs.localhost", subject, message_id
    m.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(m)


def case_of(database_url: str, sender: str) -> tuple[str, int] | None:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT id::text, reference FROM contacts.contact WHERE reporter_email = %s", (sender,)
        ).fetchone()


async def test_ada_answers_an_email_with_a_template_in_the_consumers_language_and_it_arrives_threaded(
    mail_stack, database_url
):
    from playwright.async_api import async_playwright, expect

    console, smtp_port, sink = mail_stack
    send(smtp_port, "marie@example.fr", "Des morceaux dans mes flocons",
         "Bonjour, j'ai trouvé des morceaux durs dans mes flocons d'avoine. Que dois-je faire ?",
         "<marie-1@example.fr>")  # fmt: skip
    case_id, reference = wait_for(
        lambda: case_of(database_url, "marie@example.fr"), timeout=30, what="the case"
    )
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ada = await log_in(browser, console, "ada", "ada-demo-1001")
            await ada.goto(f"{console}/cases/view?id={case_id}")
            picker = ada.locator("#reply-template")
            await expect(ada.locator("#reply-language")).to_have_text("(fr)")
            await expect(picker.locator("option")).to_have_count(3)  # (none), and two in French
            await picker.select_option(label="Ask for the lot code")
            body = ada.locator("#reply-body")
            await expect(body).to_have_value(
                "Merci de nous avoir écrit, et nous en sommes désolés.\n\n"
                "Pourriez-vous nous envoyer le numéro de lot et la date de durabilité imprimés sur "
                "l'emballage ? Ils nous aident à retrouver ce qui s'est passé."
            )
            await body.press("End")
            await body.type("\n\nAda")
            await ada.locator("#send-reply").click()

            def delivered():
                files = list(sink.iterdir()) if sink.exists() else []
                return files[0] if files else None

            filed = wait_for(delivered, timeout=30, what="the reply in the sink")
            reply = email.message_from_bytes(filed.read_bytes(), policy=email.policy.default)
            assert reply["To"] == "marie@example.fr"
            assert reply["In-Reply-To"] == "<marie-1@example.fr>"
            assert reply["Subject"] == f"Re: Des morceaux dans mes flocons [Case {reference}]"
            assert reply.get_content().startswith("Merci de nous avoir écrit")
            assert reply.get_content().rstrip().endswith("Ada")

            # An admin adds a French template; the next reply on the case is offered it.
            root = await log_in(browser, console, "root", ADMIN_PASSWORD)
            # The admin browses the development sink and finds the reply, with the headers that thread it.
            await root.goto(f"{console}/mail-sink")
            filed_reply = root.locator("#sink li").first
            await expect(filed_reply).to_contain_text(f"Re: Des morceaux dans mes flocons [Case {reference}]")
            await expect(filed_reply).to_contain_text("In-Reply-To: <marie-1@example.fr>")
            await expect(filed_reply).to_contain_text("Merci de nous avoir écrit")
            await root.goto(f"{console}/reply-templates")
            await root.fill("#template-name", "Merci")
            await root.fill("#template-language", "fr")
            await root.fill("#template-body", "Merci pour votre message.")
            await root.click("#save-template")
            await expect(root.locator("#templates")).to_contain_text("Merci pour votre message.")
            await ada.reload()
            await expect(ada.locator("#reply-template option")).to_have_count(4)
            await ada.locator("#reply-template").select_option(label="Merci")
            await expect(ada.locator("#reply-body")).to_have_value("Merci pour votre message.")
        finally:
            await browser.close()
            # The run's other modules share this database and count the demo's templates.
            with psycopg.connect(database_url) as conn:
                conn.execute("DELETE FROM channels.reply_template WHERE name = 'Merci'")
