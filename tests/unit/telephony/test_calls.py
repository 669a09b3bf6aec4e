"""Call state and the events it yields; the recording policy; the SDP reading the endpoint relies on."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from services.telephony import signalling, sipmsg
from services.telephony.callerid import CallerId
from services.telephony.calls import Call, CallBook, CallerTrust, CallState, EndReason
from services.telephony.service import RecordingPolicy, recording_key


def make_call(call_id: str = "c1") -> Call:
    return Call(
        call_id=call_id,
        caller=CallerId("+16145550123", "sip:6145550123@pbx", "Jane", False, "from"),
        trust=CallerTrust.TRUNK,
        extension="1001",
        invite_received_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
        invite_monotonic=time.monotonic(),
        to_tag="t",
        record=True,
    )


def test_a_call_id_rings_once_even_after_it_ended():
    book = CallBook()
    assert book.add(make_call())
    assert not book.add(make_call())
    book.end("c1", EndReason.CANCELLED)
    assert not book.add(make_call())
    assert len(book) == 0


def test_transitions_happen_once():
    book = CallBook()
    book.add(make_call())
    assert book.answer("c1").state is CallState.ANSWERED
    assert book.answer("c1") is None
    ended = book.end("c1", EndReason.CALLER_HUNG_UP)
    assert ended.state is CallState.ENDED and ended.duration_seconds >= 0
    assert book.end("c1", EndReason.COMPLETED) is None


def test_events_carry_the_call():
    call = make_call()
    ringing = call.ringing_event()
    assert (ringing.exchange, ringing.type, ringing.correlation_id) == (
        "telephony.events",
        "call_ringing",
        "c1",
    )
    assert ringing.data["caller"]["number"] == "+16145550123"
    assert ringing.data["invite_received_at"] == "2024-05-01T12:00:00Z"
    call.reason, call.recording_key = EndReason.CANCELLED, "k.wav"
    ended = call.ended_event()
    assert ended.data["reason"] == "END_REASON_CANCELLED" and ended.data["recording_key"] == "k.wav"


def test_recording_policy():
    assert RecordingPolicy.parse("*").records("anything")
    assert RecordingPolicy.parse("1001, queue-care").records("queue-care")
    assert not RecordingPolicy.parse("1001").records("1002")
    assert not RecordingPolicy.parse("").records("1001")


def test_recording_key_is_safe_whatever_the_call_id():
    call = make_call("weird/../id@host;x")
    key = recording_key(call)
    assert key.startswith("2024/05/01/") and key.endswith(".wav") and ".." not in key


def test_audio_offer_reads_static_and_mapped_codecs():
    body = b"v=0\r\nm=audio 4000 RTP/AVP 0 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
    codecs, payloads = signalling.audio_offer(body)
    assert codecs == {"PCMU", "OPUS", "TELEPHONE-EVENT"} and payloads == ["0", "96", "101"]
    assert signalling.audio_offer(b"m=video 4000 RTP/AVP 0\r\n")[0] == set()


def test_offer_for_pyvoip_keeps_only_what_it_can_take():
    body = (
        b"v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 96 8 101\r\nc=IN IP4 10.0.0.1\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\nm=video 5000 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\n"
    )
    text = signalling.pyvoip_sdp(body).decode()
    assert "m=audio 4000 RTP/AVP 8 101" in text and text.count("c=") == 1
    assert "opus" not in text and "VP8" not in text


def test_invite_for_pyvoip_has_forms_its_parser_takes():
    invite = sipmsg.parse(
        b"INVITE sip:1001@h SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1:5060 ; branch=z9hG4bK1\r\n"
        b'f: "Doe, J" <tel:+16145550123>;tag=a\r\nt: <sip:1001@h>\r\ni: c1\r\nCSeq: 1 INVITE\r\n'
        b'm: "x" <sip:u@10.0.0.1:5070>\r\nSupported:\r\nl: 0\r\n\r\n'
    )
    text = signalling.pyvoip_invite(invite).decode()
    assert "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" in text
    assert "From: <sip:+16145550123@invalid>;tag=a\r\n" in text
    assert "Contact: <sip:u@10.0.0.1:5070>\r\n" in text
    assert "Supported" not in text


def test_new_calls_are_refused_while_the_event_buffer_is_full(tmp_path):
    from services.runtime.recordings import LocalDirectoryStore
    from services.telephony.events import EventPublisher
    from services.telephony.service import TelephonyService

    publisher = EventPublisher(amqp_url="amqp://guest:guest@127.0.0.1:1/", capacity=2)  # never started
    service = TelephonyService(
        publisher=publisher,
        store=LocalDirectoryStore(tmp_path),
        region="US",
        policy=RecordingPolicy.parse(""),
        answer_delay=0,
        max_call_seconds=60,
        max_calls=10,
    )
    assert service.refusal() is None
    publisher.publish(make_call("a").ringing_event())
    publisher.publish(make_call("b").ringing_event())
    assert service.refusal() == "Event Buffer Full"


def test_scheduler_runs_actions_in_time_order_and_cancels_by_key():
    from services.telephony.scheduler import Scheduler
    from tests.support.wait import wait_for

    scheduler = Scheduler()
    done: list[str] = []
    try:
        scheduler.after(0.06, "late", lambda: done.append("late"))
        scheduler.after(0.01, "early", lambda: done.append("early"))
        scheduler.after(0.03, "cancelled", lambda: done.append("cancelled"))
        scheduler.after(0.02, "failing", lambda: 1 / 0)
        scheduler.cancel("cancelled")
        wait_for(lambda: len(done) == 2, timeout=5)
        assert done == ["early", "late"]
        assert scheduler.pending() == 0
    finally:
        scheduler.stop()


def test_the_control_address_a_ringing_names_is_where_this_replica_can_be_reached(monkeypatch):
    from services.telephony.__main__ import control_advertise

    monkeypatch.delenv("CRS_TELEPHONY_CONTROL_ADVERTISE", raising=False)
    monkeypatch.setenv("CRS_SIP_ADVERTISE", "10.0.4.7")
    assert control_advertise("127.0.0.1", 50055) == "127.0.0.1:50055"  # a bind host of its own
    assert control_advertise("0.0.0.0", 50055) == "10.0.4.7:50055"  # every address: the node's (k8s)
    monkeypatch.setenv("CRS_SIP_ADVERTISE", "fd00::7")
    assert control_advertise("::", 50055) == "[fd00::7]:50055"
    monkeypatch.setenv("CRS_TELEPHONY_CONTROL_ADVERTISE", "telephony-2.example:6000")
    assert control_advertise("0.0.0.0", 50055) == "telephony-2.example:6000"
    call = make_call()
    call.control_address = "10.0.4.7:50055"
    assert call.ringing_event().data["control_address"] == "10.0.4.7:50055"
