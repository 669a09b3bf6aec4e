"""The letter use cases through fakes: no case before the agent confirms, one case per scan, the
language from the confirmed text, and uploads that are not scans refused before OCR runs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from services.channels.letters import MAX_SCAN_BYTES, AlreadyFiled, Letters, Scan
from services.channels.ocr import ScanRefused

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class FakeStore:
    def __init__(self):
        self.scans: dict[str, Scan] = {}

    async def add(self, *, data, content_type, filename, draft, ocr_language, uploaded_by) -> Scan:
        scan = Scan(
            str(uuid.uuid4()),
            content_type,
            filename,
            len(data),
            draft,
            ocr_language,
            uploaded_by,
            "",
            0,
            datetime.now(UTC),
        )
        self.scans[scan.id] = scan
        return scan

    async def get(self, scan_id):
        return self.scans.get(scan_id)

    async def attach(self, scan_id, *, case_id, case_reference):
        if self.scans[scan_id].case_id:
            return False
        self.scans[scan_id] = dataclasses.replace(
            self.scans[scan_id], case_id=case_id, case_reference=case_reference
        )
        return True


class FakeCases:
    def __init__(self):
        self.opened: list[dict] = []

    async def open_letter_case(self, **fields):
        self.opened.append(fields)
        return str(uuid.uuid4()), 100 + len(self.opened)


def letters_with(read: list[bytes]):
    async def read_text(data, *, language):
        read.append(data)
        return "Madame, les biscuits étaient cassés."

    cases = FakeCases()
    return Letters(store=FakeStore(), cases=cases, read_text=read_text, detect_language=lambda t: "fr"), cases


async def test_the_case_is_opened_once_and_only_when_the_agent_confirms():
    letters, cases = letters_with([])
    scan = await letters.draft(PNG, filename="l.png", language="auto", uploaded_by="ada")
    assert scan.draft.startswith("Madame") and cases.opened == []
    filed = await letters.confirm(scan.id, verbatim="Madame, les biscuits étaient cassés. Claire")
    assert filed.case_reference == 101
    assert cases.opened == [
        {
            "consumer_id": "",
            "reporter_name": "",
            "language": "fr",
            "verbatim": "Madame, les biscuits étaient cassés. Claire",
        }
    ]
    with pytest.raises(AlreadyFiled):
        await letters.confirm(scan.id, verbatim="again")
    assert len(cases.opened) == 1


@pytest.mark.parametrize(
    "upload",
    [b"", b"GIF89a" + b"\x00" * 10, PNG + b"\x00" * MAX_SCAN_BYTES],
    ids=["empty", "gif", "too-large"],
)
async def test_what_is_not_a_scan_is_refused_before_ocr(upload):
    read: list[bytes] = []
    letters, _ = letters_with(read)
    with pytest.raises(ScanRefused):
        await letters.draft(upload, filename="x", language="auto", uploaded_by="ada")
    assert read == []
