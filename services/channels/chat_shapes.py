"""What both sides of a chat share: a line, a connection, a refusal, and the checks of what they send."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

MAX_LINE = 2000
MAX_NAME = 200
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
ADDRESS = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


class Refused(ValueError):
    """What the consumer or agent asked for is not allowed; the message says why, for them to read."""


@dataclass(frozen=True)
class Line:
    id: int
    author: str  # "consumer", "assistant", or the agent's username
    body: str
    at: datetime
    file: dict[str, Any] | None = None  # a file sent into the chat: id, filename, content_type, size


class Sink(Protocol):
    """One side's connection: the consumer's widget socket, or an agent's desk stream."""

    async def send(self, event: dict[str, Any]) -> None: ...


def line_json(line: Line) -> dict[str, Any]:
    shown = {"id": line.id, "author": line.author, "body": line.body, "at": line.at.isoformat()}
    return shown | ({"file": line.file} if line.file else {})


def language_of(value: str) -> str:
    """The primary subtag of a browser language ("fr-CA" -> "fr"); "en" when it is not one."""
    primary = (value or "").split("-")[0].split("_")[0].strip().lower()
    return primary if LANGUAGE.match(primary) else "en"


def checked_line(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise Refused("a message needs some text")
    if len(body) > MAX_LINE:
        raise Refused(f"a message may be at most {MAX_LINE} characters")
    return body.strip()


def checked_contact(name: Any, email: Any) -> tuple[str, str]:
    name = name.strip() if isinstance(name, str) else ""
    email = email.strip() if isinstance(email, str) else ""
    if len(name) > MAX_NAME:
        raise Refused(f"a name may be at most {MAX_NAME} characters")
    if email and not ADDRESS.match(email):
        raise Refused("that email address does not look like one")
    return name, email
