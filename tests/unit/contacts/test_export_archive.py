"""The export archive: every service's answer in one JSON, their files, and a summary in the consumer's language."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crs.common.v1 import privacy_pb2 as pb

from services.contacts.privacy import archive


@dataclass
class Answer:
    service: str
    data_json: str
    attachments: list = field(default_factory=list)


def build(language: str):
    answers = [
        Answer(
            "contacts",
            json.dumps({"profile": {"name": "Ada Quist", "language": language}, "emails": [{}, {}]}),
        ),
        Answer("billing", json.dumps({"ledger_entries": [{"amount_minor": 1250}]})),
        Answer("telephony", "{}", [pb.Attachment(name="recordings/a.wav", content=b"RIFF")]),
    ]
    data, _ = archive.build(
        consumer_id="c-1", exported_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), answers=answers
    )
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_archive_holds_every_answer_and_every_file():
    zipped = build("en")
    assert sorted(zipped.namelist()) == ["everything.json", "summary.txt", "telephony/recordings/a.wav"]
    everything = json.loads(zipped.read("everything.json"))
    assert everything["services"]["contacts"]["profile"]["name"] == "Ada Quist"
    assert everything["services"]["billing"]["ledger_entries"] == [{"amount_minor": 1250}]
    assert zipped.read("telephony/recordings/a.wav") == b"RIFF"


def test_the_summary_speaks_the_consumers_language_and_counts_what_is_held():
    assert build("fr").read("summary.txt").decode().splitlines()[:3] == [
        "Les données que nous détenons à votre sujet",
        "",
        "Exporté le 2026-12-01 09:30 UTC",
    ]
    english = build("en").read("summary.txt").decode()
    assert "  emails: 2" in english and "  ledger entries: 1" in english
    assert "Files: 1 (recordings of your calls, letters we sent you)" in english
