"""Telephony's own SIP parser on the RFC 4475 torture messages: every valid one is read, and the caller
ID is the one a careful reader takes; every invalid one is a SipParseError, never a crash."""

from __future__ import annotations

import pytest

from services.telephony import sipmsg
from services.telephony.callerid import identify_caller
from tests.sip.torture import INVALID, VALID

VIA = "127.0.0.1:5099"


@pytest.mark.parametrize("torture", VALID, ids=[t.name for t in VALID])
def test_valid_tortuous_messages_parse(torture):
    message = sipmsg.parse(torture.datagram(VIA))
    assert message.is_request and message.call_id
    caller = identify_caller(message.get_all, region="US")
    if torture.caller:
        assert {key: getattr(caller, key) for key in torture.caller} == torture.caller


def test_the_short_tortuous_invite_is_read_as_a_careful_reader_reads_it():
    (wsinv,) = [t for t in VALID if t.name == "wsinv"]
    message = sipmsg.parse(wsinv.datagram(VIA))
    assert (message.method, message.cseq) == ("INVITE", (9, "INVITE"))
    assert message.get("NewFangledHeader") == "newfangled value continued newfangled value"
    caller = identify_caller(message.get_all, region="US")
    assert (caller.display, caller.raw, caller.number) == ('J Rosenberg \\"', "sip:jdrosen@example.com", "")
    assert len(message.get_all("Via")) == 3


@pytest.mark.parametrize("name", ["badvers", "mismatch01", "insuf", "clerr", "ncl"])
def test_invalid_messages_are_rejected_with_a_reason(name):
    (torture,) = [t for t in INVALID if t.name == name]
    with pytest.raises(sipmsg.SipParseError) as error:
        sipmsg.parse(torture.datagram(VIA))
    assert error.value.reason


@pytest.mark.parametrize("torture", INVALID, ids=[t.name for t in INVALID])
def test_no_invalid_message_crashes_the_parser(torture):
    # Either a parse error with a reason to answer, or a message read far enough to be answered:
    # any other exception escapes and fails the test.
    try:
        message = sipmsg.parse(torture.datagram(VIA))
    except sipmsg.SipParseError as error:
        assert error.reason
    else:
        assert message.call_id
