"""SIP torture messages after RFC 4475 (and RFC 5118 for IPv6), written here from the RFCs' text.

Each message keeps the tortuous part its section of the RFC is about. What is changed, everywhere: the
topmost Via names the test's own socket (`{via}`) so that replies come back to it, and Request-URIs
that name the RFC's example hosts are left as they are (the edge routes every INVITE to telephony).
Content-Length is computed, except where the wrong length is the point.

`expect` is what the edge and telephony together must answer:
- an int: that final status (one of several when the RFC allows a choice: a tuple);
- "ring": a valid INVITE; it is understood, rings, and `caller` is what a careful reader takes from it;
- None: no answer at all is right (the RFC says to discard it, or the datagram is not a request).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CRLF = "\r\n"
SDP = (
    "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.3\r\nt=0 0\r\n"
    "m=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"
)
SDP6 = (
    "v=0\r\no=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\ns=Live video feed\r\n"
    "c=IN IP6 2001:db8::20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


@dataclass(frozen=True)
class Torture:
    name: str  # the RFC's name for the message
    section: str
    head: list[str]
    body: str = ""
    expect: object = 400
    caller: dict = field(default_factory=dict)  # for "ring": the call_ringing caller fields to check
    content_length: str | None = None  # as written, when the wrong length is the point
    # Where the system does not do what the RFC says: what it does instead, and why (docs/telephony.md).
    divergence: str = ""

    def datagram(self, via: str) -> bytes:
        length = self.content_length if self.content_length is not None else str(len(self.body.encode()))
        lines = [line.replace("{via}", via).replace("{length}", length) for line in self.head]
        if not any(line.lower().startswith(("content-length", "l:")) for line in lines):
            lines.append(f"Content-Length: {length}")
        return (CRLF.join(lines) + CRLF + CRLF + self.body).encode("utf-8", "surrogateescape")


def _invite(uri: str, *extra: str, call_id: str, cseq: str = "1 INVITE", method: str = "INVITE") -> list[str]:
    return [
        f"{method} {uri} SIP/2.0",
        "Via: SIP/2.0/UDP {via};branch=z9hG4bK" + call_id,
        "Max-Forwards: 70",
        "From: <sip:caller@example.net>;tag=" + call_id[:6],
        "To: <sip:vivekg@chair-dnrc.example.com>",
        f"Call-ID: {call_id}@torture.example",
        f"CSeq: {cseq}",
        "Contact: <sip:caller@192.0.2.5>",
        *extra,
    ]


VALID = [
    Torture(
        "wsinv",
        "3.1.1.1 A Short Tortuous INVITE",
        [
            "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
            "TO :",
            " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
            'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "Content-Length   : {length}",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    {via};rport;branch=390skdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "Content-Type: application/sdp",
            "Route:",
            " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
            "      newvalue ;",
            "  secondparam ; q = 0.33",
        ],
        body=SDP.replace(
            "m=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n",
            "m=audio 3456 RTP/AVP 0\r\n",
        ),
        # Understood, the To's tag makes it an in-dialog request of a dialog that does not exist: 481.
        expect=None,
        divergence="kamailio 5.6's core parser cannot read a CSeq folded over two lines and drops the "
        "message without a reply; telephony's own parser reads it (tests/unit/telephony/test_torture.py)",
    ),
    Torture(
        "esc01",
        "3.1.1.3 Valid Use of the % Escaping Mechanism",
        [
            "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
            "To: sip:%75se%72@example.com",
            "From: <sip:I%20have%20spaces@example.net>;tag=938",
            "Max-Forwards: 87",
            "i: esc01.239409asdfakjkn23onasd0-3234",
            "CSeq: 234234 INVITE",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "C: application/sdp",
            "Contact:",
            "  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
        ],
        body=SDP,
        expect="ring",
        caller={"raw": "sip:I%20have%20spaces@example.net", "source": "from"},
    ),
    Torture(
        "escnull",
        "3.1.1.4 Escaped Nulls in URIs",
        [
            "INVITE sip:null-%00-null@example.com SIP/2.0",
            "To: sip:null-%00-null@example.com",
            "From: sip:null-%00-null@example.com;tag=839923423",
            "Max-Forwards: 70",
            "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
            "CSeq: 14398234 INVITE",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "Contact: <sip:%00@host5.example.com>",
            "Contact: <sip:%00%00@host5.example.com>",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect="ring",
        caller={"raw": "sip:null-%00-null@example.com", "source": "from", "number": ""},
    ),
    Torture(
        "lwsdisp",
        "3.1.1.6 No LWS between Display Name and <",
        [
            "INVITE sip:1001@example.com SIP/2.0",
            "To: sip:1001@example.com",
            "From: caller<sip:+16145550123@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID: lwsdisp.1234abcd@funky.example.com",
            "CSeq: 60 INVITE",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "Contact: <sip:caller@funky.example.com>",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect="ring",
        caller={"number": "+16145550123", "display": "caller", "source": "from"},
    ),
    Torture(
        "compact",
        "3.1.1.1 (compact forms) and 3.1.1.10 (several Via values)",
        [
            "INVITE sip:1002@example.com SIP/2.0",
            "v: SIP/2.0/UDP {via};branch=z9hG4bKcompact1",
            "v: SIP/2.0/TCP t1.example.com;branch=z9hG4bKt1, SIP/2.0/SCTP t2.example.com;branch=z9hG4bKt2",
            "t: <sip:1002@example.com>",
            'f: "Jane \\"JD\\" Doe" <tel:+1-614-555-0123>;tag=compact',
            "i: compact.928329@example.net",
            "CSeq: 1 INVITE",
            "m: <sip:jane@192.0.2.9>",
            "Max-Forwards: 70",
            "c: application/sdp",
        ],
        body=SDP,
        expect="ring",
        caller={"number": "+16145550123", "display": 'Jane "JD" Doe', "source": "from"},
    ),
    Torture(
        "inv2543",
        "3.1.3.? An RFC 2543 INVITE (no branch magic cookie)",
        [
            "INVITE sip:1003@example.com SIP/2.0",
            "Via: SIP/2.0/UDP {via}",
            "Max-Forwards: 70",
            "From: <sip:+16145550124@example.net>;tag=2543",
            "To: sip:1003@example.com",
            "Call-ID: inv2543.1717@example.net",
            "CSeq: 1 INVITE",
            "Contact: <sip:caller@192.0.2.5>",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect="ring",
        caller={"number": "+16145550124", "source": "from"},
    ),
    Torture(
        "ipv6-ruri",
        "RFC 5118 4.1 A Basic IPv6 SIP URI (and 4.8 an IPv6 SDP)",
        [
            "INVITE sip:1001@[2001:db8::10] SIP/2.0",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKipv6a",
            "Max-Forwards: 70",
            "To: sip:1001@[2001:db8::10]",
            "From: sip:+16145550125@[2001:db8::9:1];tag=81x2",
            "Call-ID: SSG9559905523997077@hlau_4100",
            "CSeq: 1 INVITE",
            'Contact: "Caller" <sip:caller@[2001:db8::9:1]>',
            "Content-Type: application/sdp",
        ],
        body=SDP6,
        expect="ring",
        caller={"number": "+16145550125", "raw": "sip:+16145550125@[2001:db8::9:1]", "source": "from"},
    ),
]


INVALID = [
    Torture(
        "badinv01",
        "3.1.2.1 Extraneous Header Field Separators",
        [
            "INVITE sip:user@example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;;tag=134161461246",
            "Max-Forwards: 7",
            "Call-ID: badinv01.0ha0isndaksdjasdf3234nas",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {via};;,;,,",
            'Contact: "Joe" <sip:joe@example.org>;;;;',
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "clerr",
        "3.1.2.2 Content Length Larger Than Message",
        _invite("sip:user@example.com", "Content-Type: application/sdp", call_id="clerr"),
        body=SDP,
        content_length="9999",
        expect=(400, None),  # over UDP the message may be discarded
    ),
    Torture(
        "ncl",
        "3.1.2.3 Negative Content-Length",
        _invite("sip:user@example.com", "Content-Type: application/sdp", call_id="ncl"),
        body=SDP,
        content_length="-999",
        expect=(400, None),
    ),
    Torture(
        "scalar02",
        "3.1.2.4 Request Scalar Fields with Overlarge Values",
        [
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/TCP {via};branch=z9hG4bKkdjuw",
            "Max-Forwards: 300",
            "From: <sip:user@example.com>;tag=932",
            "To: <sip:user@example.com>",
            "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
            "CSeq: 36893488147419103232 REGISTER",
            "Contact: <sip:user@host129.example.com>;expires=280297596632815",
            "Expires: 1293874623498766554",
        ],
        expect=400,
    ),
    Torture(
        "ltgtruri",
        "3.1.2.6 < and > Enclosing the Request-URI",
        [
            "INVITE <sip:user@example.com> SIP/2.0",
            *_invite("x", call_id="ltgtruri")[1:],
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "lwsruri",
        "3.1.2.7 Malformed SIP Request-URI (embedded LWS)",
        [
            "INVITE sip:user@example.com; lr SIP/2.0",
            *_invite("x", call_id="lwsruri")[1:],
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "lwsstart",
        "3.1.2.8 Multiple SP Separating Request-Line Elements",
        [
            "INVITE  sip:user@example.com  SIP/2.0",
            *_invite("x", call_id="lwsstart")[1:],
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "escruri",
        "3.1.2.10 Escaped Headers in SIP Request-URI",
        [
            "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0",
            *_invite("x", call_id="escruri")[1:],
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "quotbal",
        "3.1.2.5 Unterminated Quoted String in Display Name",
        [
            "INVITE sip:user@example.com SIP/2.0",
            'To: "Mr. J. User <sip:j.user@example.com>',
            "From: sip:caller@example.net;tag=93334",
            "Max-Forwards: 10",
            "Call-ID: quotbal.aksdj",
            "Contact: <sip:caller@host59.example.net>",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "badvers",
        "3.1.2.15 Unknown Protocol Version",
        [
            "OPTIONS sip:t.watson@example.org SIP/7.0",
            "Via: SIP/7.0/UDP {via};branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe",
            "To: T. Watson <sip:t.watson@example.org>",
            "Call-ID: badvers.31417@example.com",
            "CSeq: 1 OPTIONS",
        ],
        expect=None,
        divergence="kamailio 5.6 drops a request whose Via is not SIP/2.0 before its script runs, so "
        "no 505 is sent; telephony's own parser rejects it (tests/unit/telephony/test_torture.py)",
    ),
    Torture(
        "mismatch01",
        "3.1.2.16 Start Line and CSeq Method Mismatch",
        _invite("sip:user@example.com", call_id="mismatch01", cseq="1 INVITE", method="OPTIONS"),
        expect=400,
    ),
    Torture(
        "zeromf",
        "3.1.3.? Max-Forwards of Zero",
        [
            "INVITE sip:user@example.com SIP/2.0",
            *[h for h in _invite("x", call_id="zeromf")[1:] if not h.startswith("Max-Forwards")],
            "Max-Forwards: 0",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=483,
    ),
    Torture(
        "insuf",
        "3.3.1 Missing Required Header Fields",
        [
            "INVITE sip:user@example.com SIP/2.0",
            "CSeq: 193942 INVITE",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
    Torture(
        "unkscm",
        "3.3.2 Request-URI with Unknown Scheme",
        _invite(
            "nobodyKnowsThisScheme:totallyopaquecontent",
            call_id="unkscm",
            cseq="3923239 OPTIONS",
            method="OPTIONS",
        ),
        expect=416,
    ),
    Torture(
        "bext01",
        "3.3.6 Unknown Proxy-Require (the edge) / Require (telephony) extension",
        _invite(
            "sip:user@example.com",
            "Proxy-Require: nothingSupportedHere",
            call_id="bext01",
            cseq="1 OPTIONS",
            method="OPTIONS",
        ),
        expect=420,
    ),
    Torture(
        "require",
        "3.3.6 Unknown Require extension on an INVITE: the UAS answers 420 with Unsupported",
        _invite(
            "sip:1001@example.com",
            "Require: nothingSupportedHere, timer",
            "Content-Type: application/sdp",
            call_id="require",
        ),
        body=SDP,
        expect=420,
    ),
    Torture(
        "multi01",
        "3.3.8 Multiple Values in Single Value Required Fields",
        [
            "INVITE sip:user@company.com SIP/2.0",
            "Contact: <sip:caller@host25.example.net>",
            "Via: SIP/2.0/UDP {via};branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "CSeq: 5 INVITE",
            "Call-ID: multi01.98asdh@192.0.2.1",
            "CSeq: 59 INVITE",
            "Call-ID: multi01.98asdh@192.0.2.2",
            "From: sip:caller@example.com;tag=3413415",
            "To: sip:user@example.com",
            "To: sip:other@example.net",
            "From: sip:caller@example.net;tag=2923420123",
            "Content-Type: application/sdp",
        ],
        body=SDP,
        expect=(400, None),
    ),
]
