"""The event envelope every CRS service puts on the bus.

The body is a CloudEvents 1.0 structured-mode JSON object. Its `data` is the protobuf event message in
protobuf's JSON mapping, so any tool can read it; its `type` is the event type, which is also the routing
key on the publishing service's topic exchange `<service>.events` (nameko's layout, so a nameko
`@event_handler("telephony", "call_ringing")` consumes it as is).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

SPEC_VERSION = "1.0"


def exchange_name(service: str) -> str:
    return f"{service}.events"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """One event: what happened (`type`), where (`source` service), and its data."""

    source: str
    type: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=now)
    correlation_id: str | None = None
    schema: str | None = None

    @classmethod
    def of(
        cls, source: str, type: str, message: Message, *, correlation_id: str | None = None, **kw
    ) -> Event:
        """Build an event whose data is a protobuf message."""
        data = json_format.MessageToDict(message, preserving_proto_field_name=True)
        return cls(
            source=source,
            type=type,
            data=data,
            correlation_id=correlation_id,
            schema=message.DESCRIPTOR.full_name,
            **kw,
        )

    @property
    def exchange(self) -> str:
        return exchange_name(self.source)

    def to_dict(self) -> dict[str, Any]:
        body = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": f"crs/{self.source}",
            "type": self.type,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": self.data,
        }
        if self.correlation_id:
            body["correlationid"] = self.correlation_id
        if self.schema:
            body["dataschema"] = self.schema
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse a body from the bus; raises ValueError for anything that is not a CRS event."""
        try:
            body = json.loads(raw)
            source = body["source"].removeprefix("crs/")
            return cls(
                source=source,
                type=body["type"],
                data=body.get("data") or {},
                id=body["id"],
                time=datetime.fromisoformat(body["time"].replace("Z", "+00:00")),
                correlation_id=body.get("correlationid"),
                schema=body.get("dataschema"),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a CRS event: {exc}") from exc

    def parse(self, message_type: type[Message]) -> Message:
        """The data as a protobuf message of `message_type`; unknown fields are ignored."""
        return json_format.ParseDict(self.data, message_type(), ignore_unknown_fields=True)
