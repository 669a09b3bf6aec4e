"""Structured JSON logs, one object per line, carrying the correlation id of the work in hand.

Personal data stays out of the logs:
- phone numbers never reach them whole: long digit runs are masked to their last two digits;
- email addresses are replaced by "[email]";
- structured fields named for personal data (name, email, verbatim, address...) are replaced by "[redacted]",
  and so is any argument wrapped in `personal()`;
- exception messages, in tracebacks or passed as arguments, lose their quoted values and the rows and keys
  PostgreSQL quotes back ("Failing row contains (...)", "Key (email)=(...)"), where names and verbatims hide;
- a message body a broker client prints (a returned message, say) is withheld;
- a correlation id that could carry a number or an address (a SIP Call-ID such as "+3361234567@host")
  is replaced by a stable digest, so every service still logs the same id for the same call.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

# A run of digits standing on its own: not a piece of a UUID, a hex key or a word.
_DIGIT_RUN = re.compile(r"(?<![\w-])\+?\d[\d\s().-]{5,}\d(?![\w-])")


def mask_digits(text: str) -> str:
    """Mask anything that looks like a phone number, keeping its last two digits."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < 7:
            return match.group()
        return "*" * (len(digits) - 2) + digits[-2:]

    return _DIGIT_RUN.sub(_mask, text)


_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[redacted]"
# Field names whose values are personal data, whatever they hold.
PERSONAL_FIELDS = frozenset(
    {
        "name", "first_name", "last_name", "full_name", "display_name", "reporter", "reporter_name",
        "email", "phone", "phone_number", "caller", "caller_id", "from_number", "address", "street",
        "postcode", "verbatim", "text", "notes", "note", "body", "description",
    }
)  # fmt: skip
_DATABASE_ECHOES = [
    (re.compile(r"Failing row contains \(.*\)", re.S), "Failing row contains (" + REDACTED + ")"),
    (re.compile(r"Key \(([^)]*)\)=\((.*?)\)( already exists| is not present| conflicts)"), r"Key (\1)=(" + REDACTED + r")\3"),
    (re.compile(r"input_value=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)"), "input_value=" + REDACTED),
]  # fmt: skip
# A broker client's own log lines print whole messages (aiormq logs a returned message with its body): a
# pop or an event body carries names and numbers, so it never reaches the log.
_MESSAGE_BODY = re.compile(r"body=b('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", re.S)
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_RISKY_CORRELATION = re.compile(r"@|\d{7,}")


def redact(text: str) -> str:
    """Mask the phone numbers and email addresses in free text."""
    return mask_digits(_EMAIL.sub("[email]", text))


def redact_exception_text(text: str) -> str:
    """An exception's message without the values it quotes back: they are often the input itself."""
    for pattern, replacement in _DATABASE_ECHOES:
        text = pattern.sub(replacement, text)
    return redact(_QUOTED.sub(lambda m: m.group()[0] + "…" + m.group()[0], text))


def safe_correlation_id(cid: str) -> str:
    """`cid` itself when it cannot hold personal data, else a stable digest of it."""
    if not _RISKY_CORRELATION.search(cid) and mask_digits(cid) == cid:
        return cid
    return "h-" + hashlib.blake2b(cid.encode(), digest_size=8, person=b"crs-correlate").hexdigest()


class personal:
    """Wrap a log argument that is personal data; the log line shows "[redacted]" in its place."""

    __slots__ = ("value",)

    def __init__(self, value: object):
        self.value = value

    def __str__(self) -> str:
        return REDACTED

    __repr__ = __str__


def _safe_argument(value: object) -> object:
    if isinstance(value, BaseException):
        return redact_exception_text(f"{type(value).__name__}: {value}")
    return value


def _message(record: logging.LogRecord) -> str:
    if isinstance(record.args, tuple) and record.args:
        record = logging.makeLogRecord({**record.__dict__, "args": tuple(map(_safe_argument, record.args))})
    return redact(_MESSAGE_BODY.sub("body=[withheld]", record.getMessage()))


def format_exception(exc_info) -> str:
    """A traceback with every frame, each exception's type, and its message with personal data taken out."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(te: traceback.TracebackException) -> None:
        if id(te) in seen:
            return
        seen.add(id(te))
        if te.__cause__ is not None:
            walk(te.__cause__)
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n")
        elif te.__context__ is not None and not te.__suppress_context__:
            walk(te.__context__)
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        if te.stack:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(te.stack.format())
        parts.extend(redact_exception_text(line) for line in te.format_exception_only())

    walk(traceback.TracebackException(*exc_info))
    return "".join(parts).rstrip("\n")


def _safe_field(key: str, value: object) -> object:
    if key.lower() in PERSONAL_FIELDS:
        return REDACTED
    if isinstance(value, personal):
        return REDACTED
    if isinstance(value, BaseException):
        return redact_exception_text(f"{type(value).__name__}: {value}")
    return redact(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": _message(record),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = safe_correlation_id(str(cid))
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = _safe_field(key, value)
        if record.exc_info:
            entry["exc"] = format_exception(record.exc_info)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, default=str)


def configure(service: str, level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aio_pika", "aiormq", "pika", "asyncio"):
        logging.getLogger(noisy).setLevel("WARNING")


@contextmanager
def correlated(cid: str | None) -> Iterator[None]:
    """Tag every record logged inside the block with `cid`."""
    token = correlation_id.set(cid)
    try:
        yield
    finally:
        correlation_id.reset(token)
