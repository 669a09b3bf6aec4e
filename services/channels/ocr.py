"""Optical character recognition of a scanned letter, with tesseract and (for a PDF) poppler's pdftoppm.

Both run as child processes, so a scan never blocks the event loop, and each has a deadline: a scan that
takes too long, or a file the programs cannot read, is a clear ScanRefused rather than a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import tempfile

# Magic bytes, not the file's name or the browser's word for it, say what a scan is.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
SUFFIXES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"}
# The tesseract language packs set up by scripts/system-deps.sh; "auto" reads the European ones at once.
LANGUAGES = {"auto": "eng+fra+deu+spa", "eng": "eng", "fra": "fra", "deu": "deu", "spa": "spa", "jpn": "jpn"}
MAX_PDF_PAGES = 10
PDF_DPI = 200


class ScanRefused(ValueError):
    """The upload is not a scan OCR can read: its type, its size, or its content."""


def sniff(data: bytes) -> str:
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    raise ScanRefused("not a PDF, PNG, JPEG or TIFF file (checked by its content, not its name)")


async def _run(*argv: str, timeout: float) -> bytes:
    try:
        child = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        raise RuntimeError(f"{argv[0]} is not installed: run scripts/system-deps.sh") from None
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        raise ScanRefused(f"reading the scan took longer than {timeout:g} s") from None
    if child.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no detail"]
        raise ScanRefused(f"the scan cannot be read: {detail[0][:200]}")
    return out


async def read_text(data: bytes, *, language: str = "auto", timeout: float = 60.0) -> str:
    """The text tesseract reads on the scan, page after page; raises ScanRefused for an unreadable file."""
    content_type = sniff(data)
    langs = LANGUAGES.get(language)
    if langs is None:
        raise ScanRefused(f"OCR language: one of {', '.join(LANGUAGES)}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with tempfile.TemporaryDirectory(prefix="crs-ocr-") as work:
        folder = pathlib.Path(work)
        source = folder / f"scan{SUFFIXES[content_type]}"
        await asyncio.to_thread(source.write_bytes, data)
        pages = [source]
        if content_type == "application/pdf":
            await _run(
                "pdftoppm",
                "-r",
                str(PDF_DPI),
                "-png",
                "-l",
                str(MAX_PDF_PAGES),
                str(source),
                str(folder / "page"),
                timeout=timeout,
            )
            pages = await asyncio.to_thread(lambda: sorted(folder.glob("page*.png")))
            if not pages:
                raise ScanRefused("the PDF has no pages")
        texts = []
        for page in pages:
            left = max(1.0, deadline - loop.time())
            out = await _run("tesseract", str(page), "stdout", "-l", langs, timeout=left)
            texts.append(out.decode("utf-8", "replace").strip())
    return "\n\n".join(t for t in texts if t)
