"""The agent's side of chat files through the console as a process: ada's desk socket sees the consumer's
picture, which opens through the console for her session only, and her PDF, sent through the console,
reaches the consumer's widget."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from services.channels.__main__ import Settings, serve
from services.console.seed import seed_demo
from tests.integration.channels.test_chat import ORIGIN, frames_until
from tests.integration.channels.test_chat_files import PDF, PNG
from tests.integration.console.stack import Process, free_port, wait_ready
from tests.integration.console.test_pages import browser, browser_login, csrf_of


@pytest.fixture(scope="module")
async def stack(contacts, service_env, database_url, tmp_path_factory):
    settings = Settings(
        database_url=database_url,
        grpc_bind="127.0.0.1:0",
        contacts=f"127.0.0.1:{contacts.bound.grpc_port}",
        smtp_bind="127.0.0.1:0",
        lmtp_bind="",
        smtp_url="smtp://127.0.0.1:9",
        from_address="care@crs.test",
        domain="crs.test",
        issue_code="question",
        thread_window_days=14.0,
        outbox_interval=60,
        chat_bind="127.0.0.1:0",
        chat_origins=frozenset({ORIGIN}),
        chat_demo_bind="",
        chat_burst=20,
        chat_rate=5,
        chat_resume_seconds=0,
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    seed_demo(database_url)
    port = free_port()
    nowhere = f"127.0.0.1:{free_port()}"
    env = {
        **service_env,
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{port}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{contacts.bound.grpc_port}",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{ports['grpc']}",
        **{
            f"CRS_{name}_GRPC": nowhere
            for name in ("BILLING", "FULFILLMENT", "TELEPHONY", "KNOWLEDGE", "SCREENPOP", "INSIGHTS")
        },
    }
    process = Process("services.console", env, tmp_path_factory.mktemp("chatfiles") / "console.log")
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process)
        yield base, f"http://127.0.0.1:{ports['chat']}"
    finally:
        process.stop()
        stop.set()
        await asyncio.wait_for(task, 30)


async def desk_until(socket, kind):
    while True:
        frame = json.loads((await asyncio.wait_for(socket.receive(), 10)).data)
        if frame["kind"] == kind:
            return frame


async def test_the_agent_sends_and_opens_chat_files_through_the_console(stack):
    console, chat = stack
    async with browser() as http, aiohttp.ClientSession() as consumer:
        await browser_login(http, console, "ada", "ada-demo-1001")
        headers = {"Origin": console, "X-CSRF-Token": await csrf_of(http, console)}
        async with http.ws_connect(console.replace("http", "ws") + "/ws/chat", origin=console) as desk:
            await desk_until(desk, "ready")
            async with consumer.ws_connect(chat + "/chat/ws", origin=ORIGIN) as widget:
                await widget.send_json({"type": "hello", "language": "en"})
                await frames_until(widget, "welcome")
                await widget.send_json({"type": "start", "name": "Sam", "body": "Here is the label"})
                token = (await frames_until(widget, "started"))["token"]
                offered = await desk_until(desk, "chat")
                async with consumer.post(
                    chat + "/chat/files", data=PNG, headers={"X-Chat-Token": token, "X-Filename": "label.png"}
                ) as sent:
                    assert sent.status == 201
                picture = (await desk_until(desk, "line"))["lines"][0]["file"]
                link = f"{console}/attachments/{offered['case_id']}/{picture['id']}"
                async with http.get(link) as opened:
                    assert opened.status == 200 and await opened.read() == PNG
                async with (
                    aiohttp.ClientSession() as stranger,
                    stranger.get(link, allow_redirects=False) as shut,
                ):
                    assert shut.status == 303

                async with http.post(
                    f"{console}/api/chat/{offered['chat_id']}/files",
                    data=PDF,
                    headers=headers | {"X-Filename": "refund%20form.pdf"},
                ) as sent:
                    assert sent.status == 201, await sent.text()
                shown = (await frames_until(widget, "line"))["line"]["file"]
                assert (shown["filename"], shown["content_type"]) == ("refund form.pdf", "application/pdf")
                async with http.post(
                    f"{console}/api/chat/{offered['chat_id']}/files",
                    data=b"MZ" + b"\x00" * 100,
                    headers=headers | {"X-Filename": "invoice.pdf"},
                ) as refused:
                    assert refused.status == 400 and "only pictures" in (await refused.json())["error"]
