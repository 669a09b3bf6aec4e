"""`crs call`: place a real SIP call through the edge, with sipp underneath, for demos and tests.

    crs call --from "+1 614 555 0123" --to 1001 --seconds 3 [--display "Jane Doe"] [--privacy]

The call plays sipp's G.711 A-law sample for `--seconds` and hangs up; with `--cancel-after` it rings
and is cancelled instead. The SIP edge is CRS_SIP_EDGE (default 127.0.0.1:5060).
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services.runtime.settings import env, split_hostport

SAMPLE_AUDIO = "/usr/share/sip-tester/g711a.pcap"

_SDP = """v=0
o=crs 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""


@dataclass
class CallPlan:
    """What one call sends: who calls whom, how it is identified, and how it ends."""

    number: str
    extension: str
    display: str = ""
    privacy: bool = False
    seconds: float = 3.0
    cancel_after: float | None = None
    headers: list[str] = field(default_factory=list)
    from_header: str = ""
    call_id: str = field(default_factory=lambda: f"crs-call-{uuid.uuid4().hex}")  # sipp appends -1, -2...
    audio: str = SAMPLE_AUDIO
    sdp: str = _SDP


def dial_string(number: str) -> str:
    """The SIP user part for a number as people write it: `+1 614 555 0123` -> `+16145550123`."""
    return re.sub(r"[^0-9A-Za-z+*#.-]", "", number) or "anonymous"


def _quoted(display: str) -> str:
    return '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'


def identity_headers(plan: CallPlan) -> list[str]:
    """From (and, for a withheld call, P-Asserted-Identity and Privacy) for the plan."""
    tag = ";tag=[pid]crs[call_number]"
    if plan.from_header:
        return [f"From: {plan.from_header}{tag}"]
    user = dial_string(plan.number)
    if plan.privacy:
        return [
            f'From: "Anonymous" <sip:anonymous@anonymous.invalid>{tag}',
            f"P-Asserted-Identity: <sip:{user}@[local_ip]>",
            "Privacy: id",
        ]
    display = f"{_quoted(plan.display)} " if plan.display else ""
    return [f"From: {display}<sip:{user}@[local_ip]:[local_port]>{tag}"]


def scenario(plan: CallPlan) -> str:
    """A sipp UAC scenario for the plan."""
    from_line = next(h for h in identity_headers(plan) if h.startswith("From:"))
    common = f"{from_line}\nTo: <sip:[service]@[remote_ip]:[remote_port]>@TO_TAG@\nCall-ID: [call_id]\n"
    invite_headers = "\n".join(h for h in identity_headers(plan) + plan.headers if not h.startswith("From:"))
    invite = (
        "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        + common.replace("@TO_TAG@", "")
        + "CSeq: 1 INVITE\n"
        "Contact: <sip:sipp@[local_ip]:[local_port]>\n"
        "Max-Forwards: 70\n"
        + (invite_headers + "\n" if invite_headers else "")
        + "Content-Type: application/sdp\n"
        "Content-Length: [len]\n\n" + plan.sdp + "\n"
    )
    steps = [f'<send retrans="500"><![CDATA[\n{invite}]]></send>', '<recv response="100" optional="true"/>']
    if plan.cancel_after is not None:
        # CANCEL and the ACK of the 487 reuse the INVITE's branch: [branch-N] counts back N messages.
        cancel = (
            "CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4]\n"
            + common.replace("@TO_TAG@", "")
            + "CSeq: 1 CANCEL\nMax-Forwards: 70\nContent-Length: 0\n\n"
        )
        ack = (
            "ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-7]\n"
            + common.replace("@TO_TAG@", "[peer_tag_param]")
            + "CSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n"
        )
        steps += [
            '<recv response="180"/>',
            f'<pause milliseconds="{int(plan.cancel_after * 1000)}"/>',
            f'<send retrans="500"><![CDATA[\n{cancel}]]></send>',
            # The edge's 200 for the CANCEL and the service's 487 may arrive in either order.
            '<recv response="200" optional="true"/>',
            '<recv response="487"/>',
            f"<send><![CDATA[\n{ack}]]></send>",
        ]
    else:
        in_dialog = common.replace("@TO_TAG@", "[peer_tag_param]")
        ack = (
            "ACK [next_url] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "[routes]\n" + in_dialog + "CSeq: 1 ACK\nContact: <sip:sipp@[local_ip]:[local_port]>\n"
            "Max-Forwards: 70\nContent-Length: 0\n\n"
        )
        bye = (
            "BYE [next_url] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "[routes]\n" + in_dialog + "CSeq: 2 BYE\nContact: <sip:sipp@[local_ip]:[local_port]>\n"
            "Max-Forwards: 70\nContent-Length: 0\n\n"
        )
        steps += [
            '<recv response="180" optional="true"/>',
            '<recv response="200" rrs="true"/>',
            f"<send><![CDATA[\n{ack}]]></send>",
            f'<nop><action><exec play_pcap_audio="{plan.audio}"/></action></nop>',
            f'<pause milliseconds="{int(plan.seconds * 1000)}"/>',
            f'<send retrans="500"><![CDATA[\n{bye}]]></send>',
            '<recv response="200" crlf="true"/>',
        ]
    body = "\n".join(steps)
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="crs call">\n{body}\n</scenario>\n'


def free_udp_port(host: str = "127.0.0.1", *, even: bool = False) -> int:
    """A UDP port nothing listens on right now (even, for RTP, when asked)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        if not even or port % 2 == 0:
            return port


def sipp_command(
    plan: CallPlan, *, scenario_file: str, edge: str, calls: int = 1, rate: float = 1
) -> list[str]:
    """The sipp command line that places `calls` calls of the plan at `rate` per second through `edge`."""
    host, port = split_hostport(edge)
    return [
        env("CRS_SIPP", shutil.which("sipp") or "/usr/bin/sipp"),
        f"{host}:{port}",
        "-sf", scenario_file,
        "-s", plan.extension,
        "-i", "127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0",
        "-p", str(free_udp_port()),
        "-mp", str(free_udp_port(even=True)),
        "-m", str(calls),
        "-r", str(rate),
        "-l", str(max(calls, 1)),
        "-recv_timeout", "15000",
        "-timeout", f"{int(60 + calls / max(rate, 0.1) + plan.seconds)}s",
        "-timeout_error",
        "-cid_str", plan.call_id + "-%u",
        "-nostdin",
        "-max_recv_loops", "1000",
    ]  # fmt: skip


def place_call(
    plan: CallPlan, *, edge: str | None = None, calls: int = 1, rate: float = 1
) -> subprocess.CompletedProcess:
    """Run sipp for the plan and wait for it; returns the finished process (returncode 0 = all calls ok)."""
    edge = edge or env("CRS_SIP_EDGE", "127.0.0.1:5060")
    with tempfile.TemporaryDirectory(prefix="crs-call-") as workdir:
        scenario_file = Path(workdir) / "call.xml"
        scenario_file.write_text(scenario(plan))
        command = sipp_command(plan, scenario_file=str(scenario_file), edge=edge, calls=calls, rate=rate)
        return subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )


def run(args: argparse.Namespace) -> int:
    plan = CallPlan(
        number=args.number,
        extension=args.to,
        display=args.display or "",
        privacy=args.privacy,
        seconds=args.seconds,
        cancel_after=args.cancel_after,
    )
    if shutil.which("sipp") is None and not Path("/usr/bin/sipp").exists():
        print("sipp is not installed: install Debian's 'sip-tester' package", file=sys.stderr)
        return 2
    result = place_call(plan, edge=args.edge)
    if result.returncode != 0:
        print(f"call failed (sipp exit {result.returncode})", file=sys.stderr)
        print((result.stderr or result.stdout)[-2000:], file=sys.stderr)
        return 1
    print(f"call {plan.call_id}-1 to {plan.extension} done")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("call", help="place a SIP call through the edge (sipp underneath)")
    parser.add_argument("--from", dest="number", required=True, help='caller number, e.g. "+1 614 555 0123"')
    parser.add_argument("--to", required=True, help="extension or queue to ring, e.g. 1001")
    parser.add_argument("--display", help="caller display name")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of audio before hanging up")
    parser.add_argument("--privacy", action="store_true", help="withhold the number (Privacy: id)")
    parser.add_argument("--cancel-after", type=float, help="ring this many seconds, then cancel")
    parser.add_argument("--edge", help="SIP edge host:port (default CRS_SIP_EDGE)")
    parser.set_defaults(func=run)
