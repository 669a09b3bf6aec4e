"""Scanned letters: an agent uploads the scan, OCR drafts its verbatim, the agent corrects and confirms it,
and only then does casework open the case (channel "letter"). The scan stays with the case."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.channels.ocr import LANGUAGES, ScanRefused, sniff

MAX_SCAN_BYTES = 3 * 1024 * 1024  # under gRPC's 4 MiB message limit, with room for the rest of the call
MAX_VERBATIM = 20000


@dataclass(frozen=True)
class Scan:
    id: str
    content_type: str
    filename: str
    size: int
    draft: str
    ocr_language: str
    uploaded_by: str
    case_id: str
    case_reference: int
    created_at: datetime


class AlreadyFiled(Exception):
    """The scan's case was opened already."""


class UnknownScan(LookupError):
    pass


class LetterCases(Protocol):
    async def open_letter_case(
        self, *, consumer_id: str, reporter_name: str, language: str, verbatim: str
    ) -> tuple[str, int]: ...


class LetterStore(Protocol):
    async def add(self, **fields) -> Scan: ...
    async def get(self, scan_id: str) -> Scan | None: ...
    async def attach(self, scan_id: str, *, case_id: str, case_reference: int) -> bool: ...


class Letters:
    def __init__(
        self,
        *,
        store: LetterStore,
        cases: LetterCases,
        read_text: Callable[..., Awaitable[str]],
        detect_language: Callable[[str], str],
    ):
        self.store = store
        self.cases = cases
        self.read_text = read_text
        self.detect_language = detect_language
        self._confirming: dict[str, asyncio.Lock] = {}

    async def draft(self, data: bytes, *, filename: str, language: str, uploaded_by: str) -> Scan:
        """Keeps the scan and its OCR draft; refuses (ScanRefused) what is not a readable scan."""
        if not data:
            raise ScanRefused("the upload is empty")
        if len(data) > MAX_SCAN_BYTES:
            raise ScanRefused(f"a scan may be at most {MAX_SCAN_BYTES // (1024 * 1024)} MiB")
        content_type = sniff(data)
        language = language or "auto"
        if language not in LANGUAGES:
            raise ScanRefused(f"OCR language: one of {', '.join(LANGUAGES)}")
        text = await self.read_text(data, language=language)
        return await self.store.add(
            data=data,
            content_type=content_type,
            filename=filename,
            draft=text[:MAX_VERBATIM],
            ocr_language=language,
            uploaded_by=uploaded_by,
        )

    async def confirm(
        self, scan_id: str, *, verbatim: str, consumer_id: str = "", reporter_name: str = ""
    ) -> Scan:
        """Opens the letter's case with the agent's corrected verbatim, once per scan."""
        verbatim = verbatim.strip()
        if not verbatim or len(verbatim) > MAX_VERBATIM:
            raise ScanRefused(f"verbatim: 1 to {MAX_VERBATIM} characters")
        lock = self._confirming.setdefault(scan_id, asyncio.Lock())
        async with lock:
            scan = await self.store.get(scan_id)
            if scan is None:
                raise UnknownScan("no such scan")
            if scan.case_id:
                raise AlreadyFiled(f"this letter is case {scan.case_reference} already")
            case_id, reference = await self.cases.open_letter_case(
                consumer_id=consumer_id,
                reporter_name=reporter_name.strip()[:200],
                language=self.detect_language(verbatim) or "en",
                verbatim=verbatim,
            )
            if not await self.store.attach(scan_id, case_id=case_id, case_reference=reference):
                raise AlreadyFiled("this letter was filed by another confirmation at the same time")
        self._confirming.pop(scan_id, None)
        return await self.store.get(scan_id)
