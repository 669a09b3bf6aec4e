"""Who is calling and which extension rings, read from an INVITE's headers.

Trust order: P-Asserted-Identity (set by the carrier or PBX), then Remote-Party-ID (older Cisco and
Asterisk), then From (set by the caller's own device). `Privacy: id`, an RPID `privacy=full|uri`, an
anonymous URI and a URI without a user part mean withheld: the number stays empty and is never matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

from services.telephony.sipmsg import split_list

WITHHELD_USERS = {"anonymous", "restricted", "private", "withheld", "unavailable", "unknown"}
_VISUAL_SEPARATORS = re.compile(r"[\s.()\-]")


@dataclass(frozen=True)
class Uri:
    scheme: str
    user: str
    host: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NameAddr:
    display: str
    uri: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallerId:
    number: str
    raw: str
    display: str
    withheld: bool
    source: str


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in text.split(";"):
        key, _, value = item.partition("=")
        if key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    return params


def _unquote(text: str) -> str:
    """The content of a quoted-string, with `\\"` and `\\\\` unescaped."""
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_name_addr(value: str) -> NameAddr | None:
    """Parse `"Display" <uri>;params`, `Display <uri>`, or a bare `uri;params`; None if there is no URI."""
    text = value.strip()
    display = ""
    if text.startswith('"'):
        match = re.match(r'"((?:[^"\\]|\\.)*)"\s*', text)
        if not match:
            return None
        display = _unquote(match.group(0).strip())
        text = text[match.end() :]
    opening = text.find("<")
    if opening >= 0:
        closing = text.find(">", opening)
        if closing < 0:
            return None
        display = display or text[:opening].strip()
        uri = text[opening + 1 : closing].strip()
        params = _params(text[closing + 1 :])
    else:
        if display:
            return None
        uri, _, rest = text.partition(";")
        params = _params(rest)
        uri = uri.strip()
    if ":" not in uri:
        return None
    return NameAddr(display=display.strip(), uri=uri, params=params)


def parse_uri(uri: str) -> Uri:
    """Split a sip:, sips: or tel: URI into scheme, user, host and URI parameters."""
    scheme, _, rest = uri.strip().partition(":")
    scheme = scheme.lower()
    if scheme == "tel":
        number, _, params = rest.partition(";")
        return Uri(scheme, number, "", _params(params))
    rest, _, _headers = rest.partition("?")
    userinfo, at, hostport = rest.rpartition("@")
    if not at:
        hostport, userinfo = rest, ""
    host, _, params = hostport.partition(";")
    user = userinfo.split(":", 1)[0]
    return Uri(scheme, user, host, _params(params))


def _user_number(uri: Uri) -> str:
    """The telephone-subscriber part of the user: `+1614...;npdi` -> `+1614...`, separators removed."""
    user = uri.user.split(";", 1)[0]
    if uri.scheme == "tel" or uri.params.get("user") == "phone":
        user = _VISUAL_SEPARATORS.sub("", user)
    return user


def to_e164(digits: str, region: str) -> str:
    """E.164 for a dialable number in `region`'s conventions, or "" when it is not a phone number."""
    candidate = _VISUAL_SEPARATORS.sub("", digits)
    if not re.fullmatch(r"\+?\d{3,17}", candidate):
        return ""
    try:
        parsed = phonenumbers.parse(candidate, region.upper())
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _is_withheld_uri(uri: Uri) -> bool:
    return not uri.user or uri.user.lower() in WITHHELD_USERS or uri.host.lower() == "anonymous.invalid"


def _privacy_requested(get_all: Callable[[str], list[str]]) -> bool:
    values = {item.strip().lower() for value in get_all("Privacy") for item in re.split(r"[;,]", value)}
    return bool(values & {"id", "user"})


ASSERTED = (("P-Asserted-Identity", "p-asserted-identity"), ("Remote-Party-ID", "remote-party-id"))
CLAIMED = (("From", "from"),)


def _identity(get_all: Callable[[str], list[str]], *, trusted: bool) -> tuple[str, NameAddr, str] | None:
    """The most trusted identity header's (source, parsed value, raw value); asserted identities
    (RFC 3325) count only when the call came from the trust domain."""
    for header, source in (*ASSERTED, *CLAIMED) if trusted else CLAIMED:
        candidates = [
            (item, parsed)
            for value in get_all(header)
            for item in split_list(value)
            if (parsed := parse_name_addr(item)) is not None
        ]
        if header == "Remote-Party-ID":
            # An RPID with party=called describes the callee, not the caller.
            candidates = [
                (item, p) for item, p in candidates if p.params.get("party", "calling") == "calling"
            ]
        if candidates:
            # PAI may carry a sip: and a tel: identity; the tel: one is the number by definition.
            candidates.sort(key=lambda pair: parse_uri(pair[1].uri).scheme != "tel")
            raw, parsed = candidates[0]
            return source, parsed, raw
    return None


def identify_caller(get_all: Callable[[str], list[str]], *, region: str, trusted: bool = True) -> CallerId:
    """The caller of an INVITE whose headers `get_all(name)` returns, the number in E.164 for `region`.

    `trusted` is False for a call from outside the trust domain: its P-Asserted-Identity and
    Remote-Party-ID are ignored even if they got this far, and the From is all there is. A request for
    privacy is honoured whoever sends it: withholding a number is never the unsafe side."""
    found = _identity(get_all, trusted=trusted)
    if found is None:
        return CallerId(number="", raw="", display="", withheld=True, source="")
    source, name_addr, _raw = found
    uri = parse_uri(name_addr.uri)
    rpid_private = source == "remote-party-id" and name_addr.params.get("privacy", "off") in ("full", "uri")
    if _privacy_requested(get_all) or rpid_private:
        return CallerId(number="", raw="", display="", withheld=True, source=source)
    if _is_withheld_uri(uri):
        return CallerId(number="", raw=name_addr.uri, display="", withheld=True, source=source)
    display = name_addr.display
    if display.lower() in WITHHELD_USERS:
        display = ""
    return CallerId(
        number=to_e164(_user_number(uri), region),
        raw=name_addr.uri,
        display=display,
        withheld=False,
        source=source,
    )


def rung_extension(request_uri: str, to_value: str) -> str:
    """The extension or queue rung: the Request-URI's user, else the To header's user."""
    for uri_text in (request_uri, (parse_name_addr(to_value) or NameAddr("", "")).uri):
        if not uri_text:
            continue
        user = _user_number(parse_uri(uri_text)) if ":" in uri_text else ""
        if user:
            return user
    return ""
