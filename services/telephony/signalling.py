"""SIP messages the endpoint builds itself, and the SDP it reads: plain functions, no sockets.

The endpoint handles the early part of a call (provisional replies, CANCEL, OPTIONS, REGISTER) without
pyVoIP; see docs/telephony.md for why. pyVoIP still builds the answer and runs RTP, from an INVITE these
functions first reduce to the forms its parser handles.
"""

from __future__ import annotations

import re
import secrets

from services.telephony import sipmsg
from services.telephony.callerid import parse_name_addr

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"
STATIC_PAYLOADS = {"0": "PCMU", "8": "PCMA"}
RECORDABLE = {"PCMU", "PCMA"}


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def audio_offer(body: bytes) -> tuple[set[str], list[str]]:
    """The codec names an SDP offers for audio, and its audio payload types in offer order."""
    text = body.decode("latin-1")
    payloads: list[str] = []
    names: dict[str, str] = {}
    in_audio = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            fields = line[2:].split()
            in_audio = len(fields) >= 4 and fields[0] == "audio"
            if in_audio:
                payloads += fields[3:]
        elif in_audio and line.startswith("a=rtpmap:"):
            match = re.match(r"a=rtpmap:(\d+)\s+([^/\s]+)", line)
            if match:
                names[match.group(1)] = match.group(2).upper()
    codecs = {names.get(pt) or STATIC_PAYLOADS.get(pt, "") for pt in payloads}
    return codecs - {""}, payloads


def pyvoip_sdp(body: bytes) -> bytes:
    """The offer reduced to one connection line and one audio stream of PCMU, PCMA and telephone-event:
    pyVoIP's SDP parser fails on rtpmaps of streams it skipped, and miscounts session plus media `c=`."""
    text = body.decode("latin-1").replace("\r\n", "\n")
    lines = text.split("\n")
    connection = next((line for line in lines if line.startswith("c=")), "c=IN IP4 0.0.0.0")
    port = "0"
    keep: list[str] = []
    names: dict[str, str] = {}
    audio_seen = False
    in_audio = False
    for line in lines:
        if line.startswith("m="):
            fields = line[2:].split()
            in_audio = not audio_seen and len(fields) >= 4 and fields[0] == "audio"
            if in_audio:
                audio_seen = True
                port = fields[1].split("/")[0]
                keep = fields[3:]
        elif in_audio and line.startswith("a=rtpmap:"):
            match = re.match(r"a=rtpmap:(\d+)\s+(\S+)", line)
            if match:
                names[match.group(1)] = match.group(2)
    wanted = [
        pt
        for pt in keep
        if (names.get(pt, "").split("/")[0].upper() or STATIC_PAYLOADS.get(pt, ""))
        in ("PCMU", "PCMA", "TELEPHONE-EVENT")
    ]
    out = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", connection.split("/")[0], "t=0 0"]
    out.append(f"m=audio {port} RTP/AVP {' '.join(wanted)}")
    out += [f"a=rtpmap:{pt} {names[pt]}" for pt in wanted if pt in names]
    out.append("a=sendrecv")
    return ("\r\n".join(out) + "\r\n").encode()


def _pyvoip_name_addr(value: str) -> str:
    """A From/To that pyVoIP's parser can split: `<sip:user@host>;params`, whatever scheme came."""
    parsed = parse_name_addr(value)
    if parsed is None:
        return "<sip:unknown@invalid>"
    scheme, _, rest = parsed.uri.partition(":")
    if scheme.lower() == "tel":
        rest = rest.split(";", 1)[0] + "@invalid"
    elif "@" not in rest:
        rest = "unknown@" + rest
    tag = parsed.params.get("tag")
    return f"<sip:{rest}>" + (f";tag={tag}" if tag else "")


def pyvoip_invite(invite: sipmsg.SipMessage) -> bytes:
    """The INVITE reduced to canonical header names and the forms pyVoIP 1.6.8 parses."""
    contact = parse_name_addr(invite.get("Contact"))
    contact_uri = contact.uri if contact else "sip:unknown@invalid"
    lines = [f"INVITE {invite.uri} SIP/2.0"]
    for via in invite.get_all("Via"):
        lines.append("Via: " + re.sub(r"\s*;\s*", ";", re.sub(r"\s*/\s*", "/", via.strip()), count=0))
    body = pyvoip_sdp(invite.body)
    lines += [
        f"From: {_pyvoip_name_addr(invite.get('From'))}",
        f"To: {_pyvoip_name_addr(invite.get('To'))}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {invite.cseq[0]} INVITE",
        f"Contact: <{contact_uri}>",
        "Content-Type: application/sdp",
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def contact_header(*, username: str, host: str, port: int) -> str:
    return f"<sip:{username}@{host}:{port}>"


def register_request(
    *,
    edge: tuple[str, int],
    host: str,
    port: int,
    username: str,
    call_id: str,
    cseq: int,
    tag: str,
    expires: int,
    authorization: str = "",
) -> bytes:
    """A REGISTER binding `username` at the edge to this endpoint's address for `expires` seconds."""
    aor = f"sip:{username}@{edge[0]}"
    lines = [
        f"REGISTER sip:{edge[0]}:{edge[1]} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch={new_branch()};rport",
        "Max-Forwards: 70",
        f"From: <{aor}>;tag={tag}",
        f"To: <{aor}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: {contact_header(username=username, host=host, port=port)};expires={expires}",
        f"Expires: {expires}",
        "User-Agent: crs-telephony",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def provisional(invite: sipmsg.SipMessage, *, to_tag: str, contact: str) -> bytes:
    """180 Ringing for `invite`."""
    return sipmsg.response(invite, 180, "Ringing", to_tag=to_tag, extra=[("Contact", contact)])


def reply(request: sipmsg.SipMessage, status: int, reason: str, *, to_tag: str = "", **extra: str) -> bytes:
    """A final response with optional extra headers given as keyword arguments (Retry_After=...)."""
    headers = [(name.replace("_", "-"), value) for name, value in extra.items()]
    return sipmsg.response(request, status, reason, to_tag=to_tag or new_tag(), extra=headers)
