"""Reading the development mail sink's Maildir back, for the console's Mail sink page: newest first, each
message's threading headers and its text. Development only, like the sink itself."""

from __future__ import annotations

import email
import email.policy
import pathlib
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_BODY = 20000


@dataclass(frozen=True)
class SinkMail:
    name: str
    received_at: datetime
    from_address: str
    to_address: str
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    body: str
    dkim_signed: bool


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    try:
        return part.get_content()[:MAX_BODY] if part is not None else ""
    except (LookupError, ValueError):
        return "(the text could not be read)"


def read(path: pathlib.Path) -> SinkMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    header = lambda name: str(message.get(name, "") or "")  # noqa: E731
    return SinkMail(
        name=path.name,
        received_at=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
        from_address=header("From"),
        to_address=header("To"),
        subject=header("Subject"),
        message_id=header("Message-ID"),
        in_reply_to=header("In-Reply-To"),
        references=header("References"),
        body=_text(message),
        dkim_signed="DKIM-Signature" in message,
    )


def newest(directory: pathlib.Path, limit: int) -> list[SinkMail]:
    files = [p for sub in ("new", "cur") if (directory / sub).is_dir() for p in (directory / sub).iterdir()]
    files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [read(p) for p in files[:limit]]
