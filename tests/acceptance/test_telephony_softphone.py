"""Acceptance: a real softphone (baresip) and `crs call` ring an extension through the edge and are recorded."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import wave

import pytest

from services.cli.call import free_udp_port
from tests.integration.telephony.stack import BusListener, start_edge, start_telephony
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def stack(tmp_path_factory, amqp_url):
    tmp = tmp_path_factory.mktemp("softphone")
    edge_process, edge = start_edge(tmp)
    service = start_telephony(tmp, amqp_url=amqp_url, edge=edge)
    yield tmp, edge, service
    # A crash or an unclean drain fails the teardown instead of passing unreported.
    codes = {"telephony": service.process.stop(), "edge": edge_process.stop()}
    assert codes == {"telephony": 0, "edge": 0}, service.process.log()[-3000:] + edge_process.log()[-2000:]


@pytest.fixture
def bus(amqp_url):
    listener = BusListener(amqp_url)
    yield listener
    listener.close()


def write_tone(path, *, hertz: int = 440, seconds: int = 10) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * hertz * i / 8000)))
                for i in range(8000 * seconds)
            )
        )


def rms(frames: bytes) -> float:
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def test_a_call_from_baresip_is_announced_and_recorded(stack, bus):
    tmp, edge, service = stack
    config = tmp / "baresip"
    config.mkdir()
    write_tone(config / "tone.wav")
    rtp = free_udp_port(even=True)
    (config / "config").write_text(
        "poll_method epoll\n"
        # Its SDP must name the address its RTP comes from: telephony takes media only from there.
        "net_interface 127.0.0.1\n"
        f"sip_listen 127.0.0.1:{free_udp_port()}\n"
        "module_path /usr/lib/baresip/modules\n"
        "module g711.so\nmodule aufile.so\nmodule account.so\nmodule menu.so\n"
        f"audio_source aufile,{config / 'tone.wav'}\n"
        f"audio_player aufile,{config / 'heard.wav'}\n"
        f"audio_alert aufile,{config / 'alert.wav'}\n"
        f"rtp_ports {rtp}-{rtp + 1}\n"
    )
    (config / "accounts").write_text('"Jane Doe" <sip:6145550123@127.0.0.1>;regint=0;audio_codecs=PCMU\n')
    softphone = subprocess.run(
        ["baresip", "-f", str(config), "-e", f"/dial sip:1001@{edge}", "-t", "4"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert "Call established" in softphone.stdout, softphone.stdout[-2000:]

    ringing = wait_for(
        lambda: [e for e in bus.poll() if e["type"] == "call_ringing" and e["data"]["caller"].get("display")],
        timeout=10,
        what="call_ringing from the softphone",
    )[0]
    call_id = ringing["correlationid"]
    assert ringing["data"]["caller"]["number"] == "+16145550123"
    assert ringing["data"]["caller"]["display"] == "Jane Doe"
    ended = bus.wait_for(call_id, "call_ended")["data"]
    assert ended["reason"] == "END_REASON_CALLER_HUNG_UP"
    with wave.open(str(service.recordings / ended["recording_key"]), "rb") as recording:
        frames = recording.readframes(recording.getnframes())
    assert len(frames) / 16000 >= 2.0
    assert rms(frames) > 2000  # the tone, not silence


def test_crs_call_command(stack, bus):
    _, edge, _ = stack
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli.main",
            "call",
            "--from",
            "+1 614 555 0123",
            "--to",
            "1001",
            "--seconds",
            "1",
        ],
        env=dict(os.environ, CRS_SIP_EDGE=edge),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    call_id = result.stdout.split()[1]
    assert bus.wait_for(call_id, "call_ringing")["data"]["caller"]["number"] == "+16145550123"
    ended = bus.wait_for(call_id, "call_ended")["data"]
    assert ended["recording_key"].endswith(".wav")
