"""The media path under attack, through the real edge and telephony: injected RTP, timestamp jumps,
silent calls, and PCI pause and resume of a known tone."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import grpc
import pytest

from services.cli.call import CallPlan, place_call
from services.cli.recording import change
from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.integration.telephony.sipclient import SipClient, answered_call, tone
from tests.integration.telephony.stack import BusListener, start_edge, start_telephony
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip

INACTIVITY_SECONDS = 2
# The bound stated for telephony's resident memory while a hostile stream runs: a quarter of the
# 512 Mi pod limit (its baseline is about 60 MB).
RSS_BOUND_BYTES = 128 * 1024 * 1024
AGENT = Principal(username="agent-1001", role="agent")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url):
    tmp = tmp_path_factory.mktemp("media")
    edge_process, edge = start_edge(tmp)
    # `crs recording` acts for a person from the "cli" identity: this deployment trusts it to (docs/security.md).
    service = start_telephony(
        tmp,
        amqp_url=amqp_url,
        edge=edge,
        CRS_RTP_INACTIVITY_SECONDS=str(INACTIVITY_SECONDS),
        CRS_PRINCIPAL_ISSUERS="console,cli",
    )
    yield edge, service
    assert service.process.stop() == 0, service.process.log()[-3000:]
    assert edge_process.stop() == 0, edge_process.log()[-3000:]


@pytest.fixture
def bus(amqp_url):
    listener = BusListener(amqp_url)
    yield listener
    listener.close()


@pytest.fixture
def caller(stack):
    client = SipClient(stack[0])
    yield client
    client.close()


def samples_of(service, ended: dict) -> tuple[int, ...]:
    with wave.open(str(service.recordings / ended["recording_key"]), "rb") as recording:
        frames = recording.readframes(recording.getnframes())
    return struct.unpack(f"<{len(frames) // 2}h", frames)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_rtp_from_a_third_address_is_not_in_the_recording(stack, caller, bus):
    _, service = stack
    audio = tone(1.0, amplitude=4000)  # made before the answer: the inactivity limit runs from it
    call = answered_call(caller, number="+16145550123", extension="1001")
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intruder.bind(("127.0.0.3", 0))
    try:
        injector = threading.Thread(
            target=call.send_audio, args=(b"\x80" * 160 * 50,), kwargs={"source": intruder}
        )
        injector.start()  # full-scale audio from another address, at the same port, at the same time
        call.send_audio(audio)
        injector.join()
        assert call.hang_up().final.status == 200
        ended = bus.wait_for(call.call_id, "call_ended")["data"]
    finally:
        intruder.close()
        call.close()
    recorded = samples_of(service, ended)
    assert len(recorded) >= 7000
    assert max(abs(s) for s in recorded) < 5000  # the tone's level; the injected audio is full scale
    assert service.metrics()["crs_telephony_rtp_packets_foreign_total"] >= 50


def test_timestamp_jumps_give_a_wav_no_larger_than_the_call(stack, caller, bus):
    _, service = stack
    audio = tone(5.0)
    call = answered_call(caller, number="+16145550123", extension="1001")
    try:
        # 250 packets (5 s), each 80,000 samples (10 s) after the last: unbounded, 2,500 s of WAV.
        call.send_audio(audio, timestamp_step=80_000)
        rss = rss_bytes(service.process.popen.pid)
        assert call.hang_up().final.status == 200
        ended = bus.wait_for(call.call_id, "call_ended")["data"]
    finally:
        call.close()
    size = (service.recordings / ended["recording_key"]).stat().st_size
    assert size <= 44 + 16000 * (ended["duration_seconds"] + 0.5), (size, ended["duration_seconds"])
    assert size >= 44 + 16000 * 4.5  # and the audio that came is there
    assert rss < RSS_BOUND_BYTES, rss


def test_a_silent_call_is_ended_at_the_inactivity_limit(stack, caller, bus):
    call = answered_call(caller, number="+16145550123", extension="1001")
    try:
        ended = bus.wait_for(call.call_id, "call_ended", timeout=INACTIVITY_SECONDS + 10)["data"]
        bye = caller.receive(call_id=call.call_id, until_final=False, timeout=1.0)
    finally:
        call.close()
    assert ended["reason"] == "END_REASON_NO_MEDIA"
    assert INACTIVITY_SECONDS <= ended["duration_seconds"] <= INACTIVITY_SECONDS + 1.5
    assert ended.get("recording_key", "") == ""  # nothing was recorded, nothing is filed as audio
    assert bye.replies == [] or all(r.status for r in bye.replies)


def silent_spans(samples: tuple[int, ...], frame: int = 80) -> list[tuple[float, float]]:
    """Runs of all-zero 10 ms frames, as (start, end) seconds."""
    spans, start = [], None
    for index in range(0, len(samples) - frame + 1, frame):
        silent = not any(samples[index : index + frame])
        if silent and start is None:
            start = index
        elif not silent and start is not None:
            spans.append((start / 8000, index / 8000))
            start = None
    if start is not None:
        spans.append((start / 8000, len(samples) / 8000))
    return spans


def test_pause_at_two_and_resume_at_four_seconds_silences_that_window_only(stack, caller, bus):
    _, service = stack
    target = f"127.0.0.1:{service.control_port}"
    audio = tone(6.0)
    call = answered_call(caller, number="+16145550123", extension="1001")
    sender = threading.Thread(target=call.send_audio, args=(audio,))
    try:
        sender.start()
        wait_for(lambda: call.sent >= 100, timeout=10, interval=0.002, what="2 s of audio sent")
        assert change("pause", call.call_id, target=target, actor=AGENT).paused
        wait_for(lambda: call.sent >= 200, timeout=10, interval=0.002, what="4 s of audio sent")
        assert not change("resume", call.call_id, target=target, actor=AGENT).paused
        sender.join()
        assert call.hang_up().final.status == 200
        ended = bus.wait_for(call.call_id, "call_ended")["data"]
    finally:
        call.close()
    recorded = samples_of(service, ended)
    assert abs(len(recorded) / 8000 - 6.0) <= 0.1
    ((start, end),) = silent_spans(recorded)  # one silent window, and nothing else is silent
    assert abs(start - 2.0) <= 0.1 and abs(end - 4.0) <= 0.1, (start, end)
    (interval,) = ended["paused"]
    assert abs(interval["start_seconds"] - 2.0) <= 0.1 and abs(interval["end_seconds"] - 4.0) <= 0.1
    assert (interval["paused_by"], interval["resumed_by"]) == ("agent-1001", "agent-1001")
    paused = bus.of_call(call.call_id, "recording_paused")[0]["data"]
    resumed = bus.of_call(call.call_id, "recording_resumed")[0]["data"]
    assert (paused["by"], paused["by_role"], paused["paused"], paused["extension"]) == (
        "agent-1001", "agent", True, "1001",
    )  # fmt: skip
    assert (resumed["by"], resumed.get("paused", False)) == ("agent-1001", False)
    assert paused["at"] < resumed["at"]
    types = [e["type"] for e in bus.of_call(call.call_id)]
    assert types == ["call_ringing", "call_answered", "recording_paused", "recording_resumed", "call_ended"]


def crs(*args: str, env_target: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "recording", *args, "--telephony", env_target],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_crs_recording_pause_and_resume_and_who_may_resume(stack, caller, bus):
    _, service = stack
    target = f"127.0.0.1:{service.control_port}"
    audio = tone(60.0)
    call = answered_call(caller, number="+16145550123", extension="1001")
    sender = threading.Thread(target=call.send_audio, args=(audio,))
    try:
        sender.start()
        paused = crs("pause", call.call_id, "--user", "agent-1001", "--role", "agent", env_target=target)
        assert (paused.returncode, paused.stdout.split("\n")[0]) == (0, f"{call.call_id}: paused"), paused
        other = crs("resume", call.call_id, "--user", "agent-2002", "--role", "agent", env_target=target)
        assert other.returncode == 1 and "PERMISSION_DENIED" in other.stderr, other
        shown = crs("state", call.call_id, "--user", "agent-1001", "--role", "agent", env_target=target)
        assert shown.returncode == 0 and shown.stdout.split("\n")[0] == f"{call.call_id}: paused", shown
        assert "(paused by agent-1001)" in shown.stdout
        boss = crs("resume", call.call_id, "--user", "sup-1", "--role", "supervisor", env_target=target)
        assert (boss.returncode, boss.stdout.split("\n")[0]) == (0, f"{call.call_id}: recording"), boss
        resumed = change("state", call.call_id, target=target, actor=AGENT)
        assert (resumed.paused, resumed.changed, len(resumed.intervals)) == (False, False, 1)
        assert resumed.intervals[0].resumed_by == "sup-1" and resumed.intervals[0].HasField("resumed_at")
        unknown = crs("pause", "no-such-call", "--user", "agent-1001", "--role", "agent", env_target=target)
        assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
        missing = crs("state", "no-such-call", "--user", "agent-1001", "--role", "agent", env_target=target)
        assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
        with pytest.raises(grpc.RpcError) as anonymous:
            with grpcio.blocking_channel(target) as channel:
                from crs.telephony.v1 import control_pb2, control_pb2_grpc

                control_pb2_grpc.RecordingControlStub(channel).PauseRecording(
                    control_pb2.RecordingRequest(call_id=call.call_id), timeout=2
                )
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
        call.stopped = True
        sender.join()
        call.hang_up()
        ended = bus.wait_for(call.call_id, "call_ended")["data"]
    finally:
        call.close()
    (interval,) = ended["paused"]
    assert (interval["paused_by"], interval["resumed_by"]) == ("agent-1001", "sup-1")


def test_after_all_of_that_a_normal_call_still_pops_and_records(stack, bus):
    edge, service = stack
    plan = CallPlan(number="+1 614 555 0123", extension="1002", seconds=2)
    result = place_call(plan, edge=edge)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    call_id = plan.call_id + "-1"
    ringing = bus.wait_for(call_id, "call_ringing")["data"]
    assert ringing["caller"]["number"] == "+16145550123"
    # Where to pause it: this replica's control API (bound to 127.0.0.1 here, so that is what it says).
    assert ringing["control_address"] == f"127.0.0.1:{service.control_port}"
    ended = bus.wait_for(call_id, "call_ended")["data"]
    assert len(samples_of(service, ended)) >= 1.5 * 8000
    wait_for(service.idle, timeout=10, what="nothing left of any call")
