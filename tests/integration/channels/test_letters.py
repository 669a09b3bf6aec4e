"""Scanned letters through the real OCR (tesseract), the real channels and contacts services, and the
console as a process: the draft carries the letter's words, confirming opens the case with the verbatim,
the scan is shown through the console to a signed-in agent only, and a hostile upload is refused."""

from __future__ import annotations

import asyncio
import io
import re

import aiohttp
import grpc
import pytest
from crs.channels.v1 import channels_pb2 as pb
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc
from PIL import Image, ImageDraw, ImageFont

from services.channels import ocr
from services.channels.__main__ import Settings, serve
from services.console.seed import seed_demo
from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.integration.console.stack import Process, free_port, wait_ready
from tests.integration.console.test_pages import browser, browser_login, csrf_of

# The font scripts/system-deps.sh sets up for letters; it has the accented Latin letters French needs.
FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
ADA = Principal("ada", "agent", extension="1001", team="north").metadata()
ENGLISH = "Dear Sir, the biscuits I bought\nlast week were stale and broken.\nPlease refund my money."
FRENCH = "Madame, les biscuits achetés\nmardi étaient périmés et cassés.\nJe demande un remboursement."


def scan_of(text: str, fmt: str = "PNG") -> bytes:
    """A page of `text`, as a scanner would give it (greyscale, 200 dpi)."""
    page = Image.new("L", (1600, 500), 255)
    ImageDraw.Draw(page).multiline_text((60, 60), text, fill=0, font=ImageFont.truetype(FONT, 40), spacing=16)
    out = io.BytesIO()
    page.save(out, fmt, resolution=200.0)
    return out.getvalue()


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 3}


def mostly_read(draft: str, original: str) -> bool:
    """OCR may miss a letter here and there: most of the original's words are in the draft."""
    expected = words(original)
    return len(expected & words(draft)) >= 0.8 * len(expected)


@pytest.mark.parametrize("text", [ENGLISH, FRENCH], ids=["english", "french"])
async def test_ocr_drafts_the_words_of_a_scan_in_english_and_french(text):
    assert mostly_read(await ocr.read_text(scan_of(text)), text)


async def test_a_scanned_pdf_is_rasterised_and_read():
    assert mostly_read(await ocr.read_text(scan_of(ENGLISH, "PDF")), ENGLISH)


@pytest.fixture(scope="module")
async def channels(contacts, database_url):
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
    )
    ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings, on_ready=ready.set_result))
    ports = await asyncio.wait_for(asyncio.shield(ready), 30)
    chan = grpcio.channel(f"127.0.0.1:{ports['grpc']}", default_deadline=60)
    yield channels_pb2_grpc.ChannelsStub(chan), ports
    await chan.close()
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
async def console(channels, contacts, service_env, database_url, tmp_path_factory):
    seed_demo(database_url)
    port = free_port()
    nowhere = f"127.0.0.1:{free_port()}"
    env = {
        **service_env,
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{port}",
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{contacts.bound.grpc_port}",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{channels[1]['grpc']}",
        **{
            f"CRS_{name}_GRPC": nowhere
            for name in ("BILLING", "FULFILLMENT", "TELEPHONY", "KNOWLEDGE", "SCREENPOP", "INSIGHTS")
        },
    }
    process = Process("services.console", env, tmp_path_factory.mktemp("letters") / "console.log")
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process)
        yield base
    finally:
        process.stop()


async def test_a_confirmed_letter_is_a_case_with_its_verbatim_and_its_scan(channels, console, contacts):
    scan = scan_of(FRENCH)
    async with browser() as http:
        await browser_login(http, console, "ada", "ada-demo-1001")
        headers = {"Origin": console, "X-CSRF-Token": await csrf_of(http, console)}
        async with http.get(f"{console}/letters/new") as page:
            assert page.status == 200 and 'id="scan-file"' in await page.text()
        async with http.get(f"{console}/") as home:
            assert 'href="/letters/new"' in await home.text(), "the bar leads to the letters page"
        async with http.post(
            f"{console}/api/letters/drafts?filename=lettre.png&language=auto",
            data=scan,
            headers={**headers, "Content-Type": "application/octet-stream"},
        ) as reply:
            assert reply.status == 201, await reply.text()
            draft = await reply.json()
        assert mostly_read(draft["draft"], FRENCH) and not draft["case_id"]
        corrected = draft["draft"] + "\nSignée : Claire Martin"
        async with http.post(
            f"{console}/api/letters/drafts/{draft['id']}/confirm",
            json={"verbatim": corrected, "reporter_name": "Claire Martin"},
            headers=headers,
        ) as reply:
            assert reply.status == 201, await reply.text()
            filed = await reply.json()
        async with http.get(f"{console}/api/contacts/{filed['case_id']}/letters") as reply:
            listed = (await reply.json())["scans"]
        async with http.get(f"{console}/letters/scans/{filed['case_id']}/{draft['id']}") as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == "image/png"
            assert await reply.read() == scan
        async with http.post(
            f"{console}/api/letters/drafts/{draft['id']}/confirm",
            json={"verbatim": corrected},
            headers=headers,
        ) as reply:
            assert reply.status == 409
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(
            f"{console}/letters/scans/{filed['case_id']}/{draft['id']}", allow_redirects=False
        ) as reply:
            assert reply.status == 303 and reply.headers["Location"] == "/login"
    case = await casework_pb2_grpc.CaseworkStub(contacts.channel).GetCase(
        casework_pb2.GetCaseRequest(id=filed["case_id"]), metadata=ADA
    )
    assert (case.channel, case.verbatim, case.language) == ("letter", corrected, "fr")
    assert [s["id"] for s in listed] == [draft["id"]]


@pytest.mark.parametrize(
    "hostile",
    [
        b"<?php system($_GET['c']); ?>",
        b"%PDF-1.7\n this is not a PDF at all \x00\xff",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"MZ\x90\x00" + b"\x00" * 100,
    ],
    ids=["script", "broken-pdf", "truncated-png", "executable"],
)
async def test_a_hostile_upload_is_refused_clearly_and_channels_keeps_serving(channels, hostile):
    stub = channels[0]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.DraftLetter(pb.DraftLetterRequest(data=hostile, filename="x.png"), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details()
    drafted = await stub.DraftLetter(pb.DraftLetterRequest(data=scan_of(ENGLISH)), metadata=ADA)
    assert mostly_read(drafted.draft, ENGLISH)


async def test_an_oversized_upload_is_refused_by_the_console(console):
    async with browser() as http:
        await browser_login(http, console, "ada", "ada-demo-1001")
        headers = {"Origin": console, "X-CSRF-Token": await csrf_of(http, console)}
        async with http.post(
            f"{console}/api/letters/drafts",
            data=b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024 + 10),
            headers={**headers, "Content-Type": "application/octet-stream"},
        ) as reply:
            assert reply.status == 413
