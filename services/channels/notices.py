"""Notices: email tied to no case, asked for by outreach (campaigns, surveys, reorder reminders) and by
insights (staff mail: an alert to quality assurance, the weekly digest with its PDF, a warning to legal).

Each notice is checked on its own, so one bad address refuses that notice and not its batch. A taken
notice is composed once, signed when channels signs, and queued under its idempotency key in the same
step; the same key again answers the first result and sends nothing. Delivery is the outbox's, through the
same relay and retries as an agent's reply (services/channels/outbound.py). Plain Python: no SQL, no gRPC.
"""

from __future__ import annotations

import asyncio
import email.policy
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

PURPOSES = ("service", "survey", "marketing", "recall")
MAX_BODY_CHARS = 100_000
MAX_SUBJECT_CHARS = 300
# A header line may not pass 998 characters (RFC 5322 2.1.1), and the link is not folded.
MAX_LINK_CHARS = 900
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z0-9-]{2,63}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_UNSAFE = re.compile(r"[\s<>\"]")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf": b"%PDF-"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Notice:
    idempotency_key: str
    to_address: str
    subject: str
    body: str
    purpose: str
    language: str = ""
    html: str = ""
    list_unsubscribe: str = ""
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Composed:
    message_id: str
    mime: bytes


@dataclass(frozen=True)
class Result:
    idempotency_key: str
    message_id: str = ""
    delivery: str = "refused"  # queued, sent, failed, or refused (the notice was not taken)
    refusal: str = ""
    attempts: int = 0
    last_error: str = ""


class NoticeStore(Protocol):
    async def queue(self, notices: list[tuple[Notice, Composed]]) -> dict[str, Result]:
        """Queue each notice whose key is new; every key's result, the first call's for a known key."""


def refusal(notice: Notice) -> str:
    """Why the notice cannot go, or "" when it can."""
    if not 1 <= len(notice.idempotency_key) <= 200:
        return "idempotency_key: 1 to 200 characters"
    # ASCII only: the relay path does not speak SMTPUTF8.
    if not notice.to_address.isascii() or not _ADDRESS.match(notice.to_address):
        return f"to_address: not an email address: {notice.to_address[:80]!r}"
    if notice.purpose not in PURPOSES:
        return f"purpose: one of {', '.join(PURPOSES)}"
    subject = notice.subject.strip()
    if not subject or len(subject) > MAX_SUBJECT_CHARS or "\n" in subject or "\r" in subject:
        return f"subject: one line of 1 to {MAX_SUBJECT_CHARS} characters"
    if not notice.body.strip() or len(notice.body) > MAX_BODY_CHARS or len(notice.html) > MAX_BODY_CHARS:
        return f"body: 1 to {MAX_BODY_CHARS} characters (html as many)"
    if notice.language and not _LANGUAGE.match(notice.language):
        return "language: a BCP 47 tag such as en or fr-CA"
    link = notice.list_unsubscribe
    if link and (
        not link.startswith(("https://", "http://", "mailto:"))
        or _UNSAFE.search(link)
        or not link.isascii()
        or len(link) > MAX_LINK_CHARS
    ):
        return (
            f"list_unsubscribe: an http(s) or mailto URL in ASCII of at most {MAX_LINK_CHARS} characters,"
            " without spaces or angle brackets"
        )
    if notice.purpose in ("survey", "marketing") and not link:
        return f"list_unsubscribe: a {notice.purpose} notice carries its one-click unsubscribe (RFC 8058)"
    return _attachment_refusal(notice.attachment) if notice.attachment else ""


def _attachment_refusal(attachment: Attachment) -> str:
    if not _FILENAME.match(attachment.filename):
        return "attachment.filename: 1 to 100 letters, digits, dots, dashes or underscores"
    magic = ATTACHMENT_TYPES.get(attachment.content_type)
    if magic is None:
        return f"attachment.content_type: one of {', '.join(ATTACHMENT_TYPES)}"
    if not attachment.data.startswith(magic) or len(attachment.data) > MAX_ATTACHMENT_BYTES:
        return f"attachment.data: a {attachment.content_type} file of at most {MAX_ATTACHMENT_BYTES} bytes"
    return ""


def compose(notice: Notice, *, from_address: str, domain: str, now: datetime) -> Composed:
    """The notice's MIME. A campaign sends one text to thousands: its content part and the headers every
    copy shares are made once (`_shared`, `_content`) and only the recipient's own headers each time,
    which cuts composing to a fraction of building each message whole with the email package."""
    message_id = make_msgid(idstring="notice", domain=domain)
    own = [f"Date: {format_datetime(now)}\r\n", f"Message-ID: {message_id}\r\n"]
    if notice.list_unsubscribe:  # checked: ASCII, no spaces or angle brackets
        own.append(f"List-Unsubscribe: <{notice.list_unsubscribe}>\r\n")
        own.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    shared = _shared(from_address, notice.subject.strip(), notice.language, domain, notice.purpose)
    to = _header("To", notice.to_address)
    content = _content(notice.body, notice.html)
    if notice.attachment is not None:  # one staff digest to a handful: not worth a cache
        content = _with_attachment(notice.body, notice.html, notice.attachment)
    mime = shared + to + "".join(own).encode("ascii") + content
    return Composed(message_id, mime)


_SMTP = email.policy.SMTP


def _header(name: str, value: str) -> bytes:
    """The folded header line, non-ASCII words encoded (RFC 2047), as the email package writes a message's."""
    return _SMTP.header_factory(name, value).fold(policy=_SMTP).encode("ascii")


@functools.lru_cache(maxsize=256)
def _shared(from_address: str, subject: str, language: str, domain: str, purpose: str) -> bytes:
    headers = [f"Content-Language: {language}\r\n"] if language else []
    # Marks mail this centre sent, so that a bounce or an auto-reply to it is never taken for a new case.
    headers += [f"X-CRS-Loop: {domain}\r\n", f"X-CRS-Purpose: {purpose}\r\n"]
    folded = _header("From", from_address) + _header("Subject", subject)
    return folded + "".join(headers).encode("ascii")


@functools.lru_cache(maxsize=64)
def _content(body: str, html: str) -> bytes:
    """MIME-Version, the content headers and the encoded body (text, or text and HTML alternatives)."""
    part = EmailMessage()
    part.set_content(body)
    if html:
        part.add_alternative(html, subtype="html")
    return part.as_bytes(policy=_SMTP)


def _with_attachment(body: str, html: str, attachment: Attachment) -> bytes:
    """MIME-Version and a multipart/mixed of the text (and HTML) and the attached file."""
    part = EmailMessage()
    part.set_content(body)
    if html:
        part.add_alternative(html, subtype="html")
    maintype, subtype = attachment.content_type.split("/")
    part.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return part.as_bytes(policy=_SMTP)


class Notices:
    """SendNotice's use case: check, compose, sign and queue; the outbox sender delivers."""

    def __init__(self, store: NoticeStore, *, from_address: str, domain: str, clock, signer=None):
        self.store, self.from_address, self.domain = store, from_address, domain
        self.clock, self.signer = clock, signer
        # Set when notices are queued, so the notice sender tries them at once rather than at its next tick.
        self.queued = asyncio.Event()

    async def send(self, notices: list[Notice]) -> list[Result]:
        refused = {i: reason for i, n in enumerate(notices) if (reason := refusal(n))}
        now = self.clock()
        taken = [(n, self._composed(n, now)) for i, n in enumerate(notices) if i not in refused]
        results = await self.store.queue(taken) if taken else {}
        if any(r.delivery == "queued" for r in results.values()):
            self.queued.set()
        return [
            Result(n.idempotency_key, refusal=refused[i]) if i in refused else results[n.idempotency_key]
            for i, n in enumerate(notices)
        ]

    def _composed(self, notice: Notice, now: datetime) -> Composed:
        composed = compose(notice, from_address=self.from_address, domain=self.domain, now=now)
        if self.signer is None:
            return composed
        return Composed(composed.message_id, self.signer.sign(composed.mime))
