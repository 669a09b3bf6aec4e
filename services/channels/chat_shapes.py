"""The shapes both sides of a chat share: a line, a connection, a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Refused(ValueError):
    """What the consumer or agent asked for is not allowed; the message says why, for them to read."""


@dataclass(frozen=True)
class Line:
    id: int
    author: str  # "consumer", "assistant", or the agent's username
    body: str
    at: datetime


class Sink(Protocol):
    """One side's connection: the consumer's widget socket, or an agent's desk stream."""

    async def send(self, event: dict[str, Any]) -> None: ...


def line_json(line: Line) -> dict[str, Any]:
    return {"id": line.id, "author": line.author, "body": line.body, "at": line.at.isoformat()}
