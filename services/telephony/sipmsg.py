"""A tolerant SIP message parser and response builder (RFC 3261 section 7), with no library types.

Real peers send compact header names (`f:`, `i:`), any letter case, empty headers (`Supported:`), folded
lines, bare LF line ends, `tel:` and `sips:` URIs and bytes that are not UTF-8. All of that parses here.
What cannot be parsed raises `SipParseError` with a reason a log line or a 400 reply can carry, and with
whatever headers were read, so that the reply can still reach the sender.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

COMPACT_FORMS = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}
_WELL_KNOWN = [
    "Call-ID",
    "CSeq",
    "WWW-Authenticate",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Remote-Party-ID",
    "Record-Route",
    "Max-Forwards",
    "User-Agent",
    "Retry-After",
    "MIME-Version",
    *COMPACT_FORMS.values(),
]
_CANONICAL = {name.lower(): name for name in _WELL_KNOWN}
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
# Headers whose values may be comma-joined lists on one line (RFC 3261 section 7.3.1).
_LIST_HEADERS = {"via", "record-route", "route", "contact", "p-asserted-identity"}
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")


class SipParseError(ValueError):
    """A datagram that is not a usable SIP message; `partial` holds what was read, for a 400 reply."""

    def __init__(self, reason: str, partial: SipMessage | None = None):
        super().__init__(reason)
        self.reason = reason
        self.partial = partial


def canonical_name(name: str) -> str:
    """`v` -> `Via`, `call-id` -> `Call-ID`, `x-custom` -> `X-Custom`."""
    lowered = name.strip().lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return _CANONICAL.get(lowered) or "-".join(part.capitalize() for part in lowered.split("-"))


def split_list(value: str) -> list[str]:
    """Split a comma-joined header value, ignoring commas inside quotes and angle brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif not quoted and depth == 0 and char == ",":
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


@dataclass
class SipMessage:
    """A request (`method` set) or a response (`status` set), headers in arrival order."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    empty_headers: list[str] = field(default_factory=list)

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get_all(self, name: str) -> list[str]:
        """Every value of header `name` (any form of the name), comma lists split where RFC 3261 allows."""
        wanted = canonical_name(name)
        values = [value for key, value in self.headers if key == wanted]
        if wanted.lower() in _LIST_HEADERS:
            return [item for value in values for item in split_list(value)]
        return values

    def get(self, name: str, default: str = "") -> str:
        values = self.get_all(name)
        return values[0] if values else default

    @property
    def call_id(self) -> str:
        return self.get("Call-ID").strip()

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.get("CSeq").strip().partition(" ")
        try:
            return int(number), method.strip().upper()
        except ValueError:
            return 0, method.strip().upper()

    def tag(self, header: str) -> str:
        match = re.search(r";\s*tag\s*=\s*([^;>\s]+)\s*(?:;|$)", _outside_brackets(self.get(header)))
        return match.group(1) if match else ""


def _outside_brackets(value: str) -> str:
    """The header params after a name-addr's closing bracket (a `;tag` inside `<...>` is a URI param)."""
    closing = value.rfind(">")
    return value[closing + 1 :] if closing >= 0 else value


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse(datagram: bytes) -> SipMessage:
    """Parse one SIP datagram; raises SipParseError with the reason when it is not a usable message."""
    if not datagram.strip(b"\r\n\x00 \t"):
        raise SipParseError("empty datagram (keep-alive)")
    head, separator, body = datagram.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = datagram.partition(b"\n\n")
    lines = _decode(head).replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    message = SipMessage()
    start = lines[0].strip() if lines else ""
    _parse_start_line(start, message)
    _parse_header_lines(lines[1:], message)
    if not separator:
        raise SipParseError("no blank line after the headers", message)
    length_text = message.get("Content-Length").strip()
    if length_text:
        if not length_text.isdigit():
            raise SipParseError("Content-Length is not a number", message)
        length = int(length_text)
        if length > len(body):
            raise SipParseError("body shorter than Content-Length", message)
        body = body[:length]
    message.body = body
    if message.is_request:
        missing = [name for name in REQUIRED if not message.get(name).strip()]
        if missing:
            raise SipParseError(f"missing {', '.join(missing)}", message)
        number, method = message.cseq
        if not number or method != message.method:
            raise SipParseError("CSeq does not match the request", message)
    return message


def _parse_start_line(start: str, message: SipMessage) -> None:
    parts = start.split(" ", 2)
    if len(parts) == 3 and parts[0].upper() == "SIP/2.0":
        if not parts[1].isdigit() or len(parts[1]) != 3:
            raise SipParseError("bad status code")
        message.status, message.reason = int(parts[1]), parts[2]
        return
    if len(parts) == 3 and parts[2].strip().upper() == "SIP/2.0" and _TOKEN.match(parts[0]):
        if ":" not in parts[1]:
            raise SipParseError("bad Request-URI")
        message.method, message.uri = parts[0].upper(), parts[1].strip()
        return
    if len(parts) == 3 and parts[2].upper().startswith("SIP/"):
        raise SipParseError("unsupported SIP version")
    raise SipParseError("not a SIP start line")


def _parse_header_lines(lines: Iterable[str], message: SipMessage) -> None:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line.strip():
            unfolded.append(line)
    for line in unfolded:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name.strip()):
            raise SipParseError(f"malformed header line {line[:40]!r}", message)
        key = canonical_name(name)
        if not value.strip():
            message.empty_headers.append(key)
            continue
        message.headers.append((key, value.strip()))


def response(
    request: SipMessage,
    status: int,
    reason: str,
    *,
    to_tag: str = "",
    extra: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """A response to `request`: its Vias, From, To (with `to_tag` when it has none), Call-ID and CSeq."""
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {via}" for via in request.get_all("Via")]
    to = request.get("To")
    if to_tag and not request.tag("To"):
        to = f"{to};tag={to_tag}"
    for name, value in (("From", request.get("From")), ("To", to), ("Call-ID", request.call_id)):
        if value:
            lines.append(f"{name}: {value}")
    if request.get("CSeq"):
        lines.append(f"CSeq: {request.get('CSeq')}")
    lines += [f"{name}: {value}" for name, value in extra]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def via_address(via: str) -> tuple[str, int] | None:
    """Where RFC 3581 sends a response: `received`/`rport` of the Via when set, else its sent-by."""
    match = re.match(r"\s*SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;\s]+)(.*)$", via, re.IGNORECASE)
    if not match:
        return None
    host, _, port = (
        match.group(1).rpartition(":") if match.group(1).count(":") == 1 else (match.group(1), "", "")
    )
    params = dict(
        (key.strip().lower(), value.strip())
        for key, _, value in (item.partition("=") for item in match.group(2).split(";") if item.strip())
    )
    host = params.get("received") or host
    port_text = params.get("rport") or port or "5060"
    return (host, int(port_text)) if port_text.isdigit() else None
