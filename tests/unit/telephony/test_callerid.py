"""Caller ID and the rung extension, from the header forms real PBXes, carriers and softphones send."""

from __future__ import annotations

import pytest

from services.telephony import sipmsg
from services.telephony.callerid import identify_caller, parse_name_addr, rung_extension, to_e164


def invite(*header_lines: str, uri: str = "sip:1001@crs.example") -> sipmsg.SipMessage:
    """An INVITE with the usual mandatory headers plus `header_lines` (which may override From/To)."""
    names = {line.split(":", 1)[0].strip().lower() for line in header_lines}
    lines = [f"INVITE {uri} SIP/2.0", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1"]
    if not names & {"from", "f"}:
        lines.append("From: <sip:6145550123@pbx.example>;tag=1")
    if not names & {"to", "t"}:
        lines.append("To: <sip:1001@crs.example>")
    lines += ["Call-ID: c1", "CSeq: 1 INVITE", *header_lines, "Content-Length: 0"]
    return sipmsg.parse(("\r\n".join(lines) + "\r\n\r\n").encode())


CASES = [
    # (what, headers, number, display, withheld, source)
    ("plain From", ["From: <sip:6145550123@pbx.example>;tag=a"], "+16145550123", "", False, "from"),
    (
        "quoted display name",
        ['From: "Jane Doe" <sip:+16145550123@pbx.example>;tag=a'],
        "+16145550123",
        "Jane Doe",
        False,
        "from",
    ),
    (
        "display name with escaped quote and backslash",
        [r'From: "Jane \"JD\" Doe \\ Co" <sip:6145550123@pbx.example>;tag=a'],
        "+16145550123",
        'Jane "JD" Doe \\ Co',
        False,
        "from",
    ),
    (
        "display name with a comma and angle bracket inside quotes",
        ['From: "Doe, Jane <home>" <sip:6145550123@pbx.example>;tag=a'],
        "+16145550123",
        "Doe, Jane <home>",
        False,
        "from",
    ),
    (
        "unquoted display name",
        ["From: Jane Doe <sip:6145550123@pbx>;tag=a"],
        "+16145550123",
        "Jane Doe",
        False,
        "from",
    ),
    ("bare addr-spec", ["From: sip:6145550123@pbx.example;tag=a"], "+16145550123", "", False, "from"),
    ("tel: URI with separators", ["From: <tel:+1-614-555-0123>;tag=a"], "+16145550123", "", False, "from"),
    ("sips: URI", ["From: <sips:+16145550123@pbx.example>;tag=a"], "+16145550123", "", False, "from"),
    (
        "user=phone with visual separators",
        ["From: <sip:+1(614)555.0123@gw.example;user=phone>;tag=a"],
        "+16145550123",
        "",
        False,
        "from",
    ),
    ("compact From", ["f: <sip:6145550123@pbx>;tag=a"], "+16145550123", "", False, "from"),
    ("lower-case header name", ["from: <sip:6145550123@pbx>;tag=a"], "+16145550123", "", False, "from"),
    ("international with 011", ["From: <sip:011442079460000@pbx>;tag=a"], "+442079460000", "", False, "from"),
    (
        "user parameter in user part",
        ["From: <sip:+16145550123;npdi@pbx>;tag=a"],
        "+16145550123",
        "",
        False,
        "from",
    ),
    ("not a phone number", ["From: <sip:alice@example.com>;tag=a"], "", "", False, "from"),
    (
        "Asterisk: PAI wins over From",
        [
            'From: "Front Desk" <sip:200@pbx.example>;tag=as5f',
            'P-Asserted-Identity: "Jane Doe" <sip:6145550123@pbx.example>',
        ],
        "+16145550123",
        "Jane Doe",
        False,
        "p-asserted-identity",
    ),
    (
        "Asterisk: RPID when there is no PAI",
        [
            "From: <sip:200@pbx.example>;tag=as5f",
            'Remote-Party-ID: "Jane Doe" <sip:6145550123@pbx.example>;party=calling;privacy=off;screen=no',
        ],
        "+16145550123",
        "Jane Doe",
        False,
        "remote-party-id",
    ),
    (
        "FreeSWITCH: PAI with a tel: alternative",
        [
            'From: "Jane" <sip:+16145550123@fs.example>;tag=Xy',
            'P-Asserted-Identity: "Jane" <sip:jane@fs.example>, <tel:+16145550123>',
        ],
        "+16145550123",
        "",
        False,
        "p-asserted-identity",
    ),
    (
        "FreeSWITCH: Privacy id withholds even a PAI number",
        [
            'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=Xy',
            'P-Asserted-Identity: "Jane" <sip:+16145550123@fs.example>',
            "Privacy: id",
        ],
        "",
        "",
        True,
        "p-asserted-identity",
    ),
    (
        "Cisco: RPID with privacy=full",
        [
            'From: "Jane Doe" <sip:6145550123@10.1.1.1>;tag=1',
            'Remote-Party-ID: "Jane Doe" <sip:6145550123@10.1.1.1;x-cisco-callback-number=6145550123>'
            ";party=calling;screen=yes;privacy=full",
        ],
        "",
        "",
        True,
        "remote-party-id",
    ),
    (
        "Cisco: RPID of the called party is not the caller",
        [
            "From: <sip:6145550123@10.1.1.1>;tag=1",
            "Remote-Party-ID: <sip:1001@10.1.1.1>;party=called;screen=no;privacy=off",
        ],
        "+16145550123",
        "",
        False,
        "from",
    ),
    (
        "anonymous@anonymous.invalid",
        ['From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=a'],
        "",
        "",
        True,
        "from",
    ),
    ("restricted user", ["From: <sip:Restricted@carrier.example>;tag=a"], "", "", True, "from"),
    ("no user part", ["From: <sip:pbx.example>;tag=a"], "", "", True, "from"),
    (
        "Privacy: id with a normal From",
        ["From: <sip:6145550123@pbx>;tag=a", "Privacy: id"],
        "",
        "",
        True,
        "from",
    ),
    (
        "Privacy: none is not withheld",
        ["From: <sip:6145550123@pbx>;tag=a", "Privacy: none"],
        "+16145550123",
        "",
        False,
        "from",
    ),
    (
        "unparseable PAI falls through to From",
        ["From: <sip:6145550123@pbx>;tag=a", "P-Asserted-Identity: garbage"],
        "+16145550123",
        "",
        False,
        "from",
    ),
]


@pytest.mark.parametrize(
    ("what", "headers", "number", "display", "withheld", "source"), CASES, ids=[c[0] for c in CASES]
)
def test_caller_id(what, headers, number, display, withheld, source):
    caller = identify_caller(invite(*headers).get_all, region="US")
    assert (caller.number, caller.display, caller.withheld, caller.source) == (
        number,
        display,
        withheld,
        source,
    )


def test_withheld_by_privacy_carries_no_identity_at_all():
    caller = identify_caller(
        invite('From: "Jane" <sip:6145550123@pbx>;tag=a', "Privacy: id").get_all, region="US"
    )
    assert caller.raw == "" and caller.display == ""


def test_home_region_decides_national_numbers():
    message = invite("From: <sip:02079460000@pbx>;tag=a")
    assert identify_caller(message.get_all, region="GB").number == "+442079460000"
    assert identify_caller(message.get_all, region="US").number == ""


@pytest.mark.parametrize(
    ("uri", "to", "extension"),
    [
        ("sip:1001@crs.example", "<sip:9999@crs.example>", "1001"),
        ("sip:1001@crs.example;transport=udp", "<sip:9999@crs.example>", "1001"),
        ("sip:queue-care@crs.example", "<sip:x@y>", "queue-care"),
        ("sip:crs.example", '"Care line" <sip:2002@crs.example>;tag=x', "2002"),
        ("tel:1001", "<sip:9@x>", "1001"),
        ("sip:crs.example", "t-garbage", ""),
    ],
)
def test_rung_extension(uri, to, extension):
    assert rung_extension(uri, to) == extension


def test_name_addr_parsing_keeps_header_params_apart_from_uri_params():
    parsed = parse_name_addr('"A" <sip:1@h;user=phone>;tag=9;party=calling')
    assert parsed.uri == "sip:1@h;user=phone"
    assert parsed.params == {"tag": "9", "party": "calling"}


@pytest.mark.parametrize("text", ["", "12", "+1 614 555 0123 ext", "abc", "+999999999999999999999"])
def test_to_e164_rejects_what_is_not_a_phone_number(text):
    assert to_e164(text, "US") == ""
