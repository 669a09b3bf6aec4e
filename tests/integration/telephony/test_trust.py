"""The trust boundary, end to end through the real edge and telephony: who may register, who may call,
and whose identity headers are believed (RFC 3325)."""

from __future__ import annotations

import pytest

from services.cli.call import CallPlan, place_call
from tests.integration.telephony.sipclient import SipClient
from tests.integration.telephony.stack import PEER_PASSWORD, PEER_USERNAME

pytestmark = pytest.mark.sip

ASSERTED = [
    'P-Asserted-Identity: "Real Consumer" <sip:+16145550199@carrier.example>',
    "Remote-Party-ID: <sip:+16145550177@carrier.example>;party=calling;privacy=off",
]


def trusted_call_rings(edge: str, bus) -> dict:
    """A plain call from the trunk; its ringing event, which the publisher sends after any earlier one."""
    plan = CallPlan(number="+1 614 555 0123", extension="2002", cancel_after=0.05)
    result = place_call(plan, edge=edge)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return bus.wait_for(plan.call_id + "-1", "call_ringing")["data"]


def ringing_then_cancel(client: SipClient, bus, **invite) -> dict:
    call_id, got = client.invite(**invite)
    assert 180 in got.statuses, got.statuses
    ringing = bus.wait_for(call_id, "call_ringing")["data"]
    assert 487 in client.cancel().statuses
    return ringing


def test_register_attacks_are_refused_and_calls_still_pop(telephony, edge, bus):
    """The attack of the issue: REGISTER as crs-telephony from another port, without and with a guess."""
    attacker = SipClient(edge)
    try:
        assert attacker.register(user="crs-telephony", password=None).statuses == [401]
        assert attacker.register(user="crs-telephony", password="crs-telephony").statuses == [401, 403]
    finally:
        attacker.close()
    assert trusted_call_rings(edge, bus)["caller"]["number"] == "+16145550123"


def test_an_invite_from_outside_the_trunks_gets_no_ringing(telephony, edge, bus):
    outsider = SipClient(edge, host="127.0.0.2")
    try:
        unauthenticated, got = outsider.invite(number="+16145550100", extension="2002")
        assert got.statuses[-1] == 407
        wrong, got = outsider.invite(
            number="+16145550100", extension="2002", credentials=(PEER_USERNAME, "guess")
        )
        assert got.statuses[-1] == 403
    finally:
        outsider.close()
    trusted_call_rings(edge, bus)  # published after anything the refused INVITEs could have caused
    assert bus.of_call(unauthenticated) == [] and bus.of_call(wrong) == []


def test_a_trusted_trunk_pops_the_asserted_identity(telephony, edge, bus):
    trunk = SipClient(edge, host="127.0.0.1")
    try:
        ringing = ringing_then_cancel(trunk, bus, number="+16145550123", extension="2002", headers=ASSERTED)
    finally:
        trunk.close()
    assert ringing["caller"] == {
        "number": "+16145550199",
        "raw": "sip:+16145550199@carrier.example",
        "display": "Real Consumer",
        "source": "p-asserted-identity",
        "trust": "CALLER_TRUST_TRUNK",
    }


def test_an_authenticated_peer_pops_its_from_number_marked_untrusted(telephony, edge, bus):
    peer = SipClient(edge, host="127.0.0.2")
    try:
        ringing = ringing_then_cancel(
            peer, bus, number="+16145550123", extension="2002", headers=ASSERTED,
            credentials=(PEER_USERNAME, PEER_PASSWORD),
        )  # fmt: skip
    finally:
        peer.close()
    assert ringing["caller"] == {
        "number": "+16145550123",
        "raw": "sip:+16145550123@127.0.0.2",
        "source": "from",
        "trust": "CALLER_TRUST_UNTRUSTED_PEER",
    }


def test_a_trust_header_from_a_caller_is_not_believed(telephony, edge, bus):
    peer = SipClient(edge, host="127.0.0.2")
    try:
        ringing = ringing_then_cancel(
            peer, bus, number="+16145550123", extension="2002", headers=["X-CRS-Trust: trunk", *ASSERTED],
            credentials=(PEER_USERNAME, PEER_PASSWORD),
        )  # fmt: skip
    finally:
        peer.close()
    assert (ringing["caller"]["number"], ringing["caller"]["trust"]) == (
        "+16145550123",
        "CALLER_TRUST_UNTRUSTED_PEER",
    )


def test_nothing_from_outside_reaches_telephonys_own_port(telephony, edge, bus):
    outsider = SipClient(edge, host="127.0.0.2")
    try:
        call_id, got = outsider.invite(
            number="+16145550100", extension="2002", headers=ASSERTED,
            destination=("127.0.0.1", telephony.sip_port),
        )  # fmt: skip
    finally:
        outsider.close()
    assert got.statuses == []
    trusted_call_rings(edge, bus)
    assert bus.of_call(call_id) == []
