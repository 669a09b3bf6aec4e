"""In-memory stand-ins for channels' store, casework and the consumer directory."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from services.channels.intake import Consumer, NewCase, bare_subject


@dataclass
class FakeStore:
    raw: dict[int, bytes] = field(default_factory=dict)
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    now: datetime | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def keep_raw(self, raw, *, envelope_from, envelope_to):
        raw_id = next(self._ids)
        self.raw[raw_id] = raw
        return raw_id

    async def reject(self, raw_id, reason, detail):
        self.rejected[raw_id] = (reason, detail)

    async def thread_of(self, message_ids):
        for m in reversed(self.messages):
            if m["message_id"] in message_ids:
                return m["case_id"], m["reference"]
        return None

    async def case_with_reference(self, reference):
        for m in self.messages:
            if m["reference"] == reference:
                return m["case_id"], m["reference"]
        return None

    async def recent_thread(self, *, sender, subject, since):
        for m in reversed(self.messages):
            if m["sender"] == sender and m["thread_subject"] == subject and m["at"] >= since:
                return m["case_id"], m["reference"]
        return None

    async def bounced(self, message_id, *, detail):
        for m in self.messages:
            if m["message_id"] == message_id and m.get("direction") == "outbound":
                m["delivery"] = "failed"
                return m["case_id"]
        return None

    async def has_message(self, message_id):
        return any(m["message_id"] == message_id for m in self.messages)

    async def add_inbound(self, *, raw_id, case_id, reference, parsed, language):
        if await self.has_message(parsed.message_id):
            return False
        self.messages.append(
            {
                "message_id": parsed.message_id,
                "case_id": case_id,
                "reference": reference,
                "sender": parsed.sender,
                "thread_subject": bare_subject(parsed.subject),
                "at": self.now,
                "body": parsed.body,
                "language": language,
            }
        )
        return True


@dataclass
class FakeCases:
    opened: list[dict] = field(default_factory=list)
    received_on: list[str] = field(default_factory=list)
    undelivered: list[tuple[str, str]] = field(default_factory=list)

    async def open_case(self, *, consumer, parsed, language, verbatim):
        reference = 1000 + len(self.opened) + 1
        self.opened.append({"consumer": consumer, "verbatim": verbatim, "language": language})
        return NewCase(f"case-{reference}", reference)

    async def received(self, case_id, *, parsed):
        self.received_on.append(case_id)

    async def not_delivered(self, case_id, *, error):
        self.undelivered.append((case_id, error))


@dataclass
class FakeConsumers:
    known: dict[str, Consumer] = field(default_factory=dict)

    async def by_email(self, address):
        return self.known.get(address)


@dataclass
class FakeChatCases:
    """Casework as chat sees it: the cases opened for chats and the ones answered."""

    opened: list[dict] = field(default_factory=list)
    answered: list[tuple[str, str]] = field(default_factory=list)

    async def open_chat_case(self, *, consumer, name, email, language, verbatim):
        reference = 2000 + len(self.opened) + 1
        self.opened.append(
            {"consumer": consumer, "name": name, "email": email, "language": language, "verbatim": verbatim}
        )
        return NewCase(f"chat-case-{reference}", reference)

    async def chat_answered(self, case_id, *, author):
        self.answered.append((case_id, author))


@dataclass
class FakeChatStore:
    """Chat lines as channels keeps them on the case's messages."""

    lines: list[dict] = field(default_factory=list)
    now: datetime | None = None

    async def add_chat_line(self, *, chat, author, body, inbound, from_address, to_address):
        from services.channels.chat import Line

        self.lines.append({"case_id": chat.case_id, "author": author, "body": body, "inbound": inbound})
        return Line(len(self.lines), author, body, self.now)


@dataclass
class Recorder:
    """One side's connection: every event it was sent."""

    events: list[dict] = field(default_factory=list)

    async def send(self, event):
        self.events.append(event)

    def kinds(self, key="kind"):
        return [e.get(key) for e in self.events]


def dkim_key(domain: str, selector: str = "crs"):
    """A fresh RSA key for signing, and the DNS lookup that publishes its public half for `domain`."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        return record if name == f"{selector}._domainkey.{domain}.".encode() else None

    return pem, dns
