"""Reading one inbound message: bytes in, a `Parsed` message or a `Refused` reason out. Never raises.

The standard library's `email` package with `policy.default` does the MIME work. Hostile or broken mail
(too large, undecodable headers, a body in a charset that lies) is refused with a reason a person can read;
the caller keeps the raw bytes whatever happens here.
"""

from __future__ import annotations

import email
import email.policy
import html
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_BODY_CHARS = 20000
# Attachments a case keeps: pictures of the product, scans, PDFs, plain text. Anything else is listed
# on the message as refused, with its name and size, and not stored.
ALLOWED_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf", "text/plain"}
)
# What a file's first bytes say it is; an attachment whose bytes say otherwise is refused.
_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
_TAG = re.compile(r"<[^>]*>")
_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)
_BLANKS = re.compile(r"\n\s*\n\s*\n+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = b""
    kept: bool = True
    reason: str = ""


@dataclass(frozen=True)
class Parsed:
    message_id: str
    sender: str
    sender_name: str
    to: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    # auto_reply, bounce or "" (a person wrote it)
    automatic: str = ""
    automatic_detail: str = ""
    loop: bool = False
    # A bounce: the Message-ID of the message that could not be delivered, from the report's copy of it.
    bounced_message_id: str = ""


@dataclass(frozen=True)
class Refused:
    reason: str  # malformed, too_large
    detail: str
    message_id: str = ""
    sender: str = ""


@dataclass
class _Walk:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    delivery_report: bool = False
    returned_ids: list[str] = field(default_factory=list)


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body: no scripts or styles, line breaks where blocks end."""
    text = _BREAK.sub("\n", _DROP.sub("", markup))
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def message_ids(value: str) -> tuple[str, ...]:
    """The Message-IDs named in an In-Reply-To or References header, in order."""
    return tuple(_MESSAGE_ID.findall(value or ""))


def parse(raw: bytes, *, own_domain: str) -> Parsed | Refused:
    """The message in `raw`, or why it cannot be read. `own_domain` recognises mail that CRS itself sent
    coming back (a loop)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return Refused("too_large", f"{len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        return _read(message, own_domain=own_domain)
    except Exception as exc:  # a parser fault on hostile input is a refusal, never a crash
        log.warning("could not read a message: %s", exc)
        return Refused("malformed", f"{type(exc).__name__}: {str(exc)[:200]}")


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value).strip()


def _read(message: EmailMessage, *, own_domain: str) -> Parsed | Refused:
    message_id = next(iter(message_ids(_header(message, "Message-ID"))), "")
    sender_name, sender = parseaddr(_header(message, "From"))
    if not sender or "@" not in sender:
        return Refused("malformed", "no sender address in From", message_id=message_id)
    if not message_id:
        return Refused("malformed", "no Message-ID", sender=sender)
    if message.defects and not message.get_content_type():
        return Refused("malformed", f"defects: {message.defects}", message_id=message_id, sender=sender)
    walk = _Walk()
    _walk(message, walk)
    body = "\n\n".join(t.strip() for t in walk.texts if t.strip())
    if not body and walk.htmls:
        body = "\n\n".join(html_to_text(h) for h in walk.htmls)
    automatic, detail = _automatic(message, sender, walk)
    to = ", ".join(address for _, address in getaddresses([_header(message, "To")]) if address)
    return Parsed(
        message_id=message_id,
        sender=sender.lower(),
        sender_name=sender_name,
        to=to,
        subject=" ".join(_header(message, "Subject").split())[:500],
        body=body[:MAX_BODY_CHARS],
        in_reply_to=next(iter(message_ids(_header(message, "In-Reply-To"))), ""),
        references=message_ids(_header(message, "References")),
        attachments=tuple(walk.attachments),
        automatic=automatic,
        automatic_detail=detail,
        loop=_is_loop(message, own_domain),
        bounced_message_id=next(iter(walk.returned_ids), "") if automatic == "bounce" else "",
    )


def _walk(part: EmailMessage, walk: _Walk) -> None:
    kind = part.get_content_type()
    if kind == "message/rfc822" or kind == "text/rfc822-headers":
        # The returned message in a bounce: only its Message-ID matters, its text is not the sender's.
        walk.returned_ids.extend(_returned_ids(part))
        return
    if part.is_multipart():
        if part.get_content_type() == "multipart/report":
            walk.delivery_report = True
        for child in part.iter_parts():
            _walk(child, walk)
        return
    if part.get_content_disposition() == "attachment" or part.get_filename():
        walk.attachments.append(_attachment(part))
    elif kind == "text/plain":
        walk.texts.append(_text(part))
    elif kind == "text/html":
        walk.htmls.append(_text(part))
    elif kind == "message/delivery-status":
        walk.delivery_report = True


def _returned_ids(part: EmailMessage) -> list[str]:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        return list(message_ids(str(inner.get("Message-ID", "")))) if inner is not None else []
    try:
        headers = email.message_from_string(part.get_content(), policy=email.policy.default)
    except (LookupError, UnicodeError):
        return []
    return list(message_ids(str(headers.get("Message-ID", ""))))


def _text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        # A charset Python does not know, or bytes that are not in the one declared: keep what can be read.
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def sniffed_type(content: bytes) -> str:
    """The allowed type a file's first bytes say it is, or "" when they name none of them."""
    return next((kind for kind, signatures in _MAGIC.items() if content.startswith(signatures)), "")


def _attachment(part: EmailMessage) -> Attachment:
    name = (part.get_filename() or "attachment")[:200]
    declared = part.get_content_type()
    content = part.get_payload(decode=True) or b""
    if len(content) > MAX_ATTACHMENT_BYTES:
        return Attachment(name, declared, len(content), kept=False, reason="larger than 10 MiB")
    if declared not in ALLOWED_TYPES:
        return Attachment(name, declared, len(content), kept=False, reason=f"type {declared} is not allowed")
    signatures = _MAGIC.get(declared)
    if signatures and not content.startswith(signatures):
        return Attachment(
            name, declared, len(content), kept=False, reason=f"its bytes are not {declared}, as it says"
        )
    return Attachment(name, declared, len(content), content=content)


def _automatic(message: EmailMessage, sender: str, walk: _Walk) -> tuple[str, str]:
    """Whether a machine wrote this (RFC 3834 auto-replies, RFC 3464 bounces), and what says so."""
    submitted = _header(message, "Auto-Submitted").lower()
    if submitted and submitted != "no":
        return "auto_reply", f"Auto-Submitted: {submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return "auto_reply", f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return "auto_reply", f"{name} present"
    local = sender.split("@", 1)[0].lower()
    if walk.delivery_report or local in ("mailer-daemon", "postmaster"):
        return "bounce", "a delivery status report" if walk.delivery_report else f"from {local}"
    return "", ""


def _is_loop(message: EmailMessage, own_domain: str) -> bool:
    """Mail that CRS sent, come back to it: its own X-CRS-Loop header or too many hops."""
    if own_domain and _header(message, "X-CRS-Loop").lower() == own_domain.lower():
        return True
    return len(message.get_all("Received") or []) > 40
