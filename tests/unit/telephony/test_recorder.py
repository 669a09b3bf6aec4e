"""Recording from RTP: G.711 decoding, silence for lost packets, order by timestamp, a valid WAV."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from services.telephony.recorder import Recording, RtpError, decode_g711, parse_rtp, wav_header


def packet(sequence: int, timestamp: int, payload: bytes, *, payload_type: int = 0, ssrc: int = 7) -> bytes:
    return (
        struct.pack("!BBHII", 0x80, payload_type, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload
    )


def samples(wav) -> tuple[int, ...]:
    """The samples of a finished recording (its spool file's path) or of WAV bytes."""
    data = wav if isinstance(wav, bytes) else wav.read_bytes()
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 8000)
        frames = reader.readframes(reader.getnframes())
    return struct.unpack(f"<{len(frames) // 2}h", frames)


@pytest.mark.parametrize(
    ("payload_type", "byte", "value"),
    [
        (0, 0xFF, 0),
        (0, 0x7F, 0),
        (0, 0x00, -32124),
        (0, 0x80, 32124),
        (8, 0xD5, 8),
        (8, 0x55, -8),
        (8, 0xAA, 32256),
    ],
)
def test_g711_reference_values(payload_type, byte, value):
    assert struct.unpack("<h", decode_g711(bytes([byte]), payload_type))[0] == value


def test_lost_packet_becomes_silence_not_a_click_or_a_shift(tmp_path):
    recording = Recording(spool_dir=tmp_path)
    loud = b"\x80" * 160  # mu-law full scale
    recording.feed(packet(1, 1000, loud))
    recording.feed(packet(3, 1320, loud))  # packet 2 (timestamp 1160) lost
    out = samples(recording.finish())
    assert len(out) == 480
    assert set(out[160:320]) == {0}
    assert set(out[:160]) == set(out[320:]) == {32124}


def test_late_packet_lands_where_its_timestamp_says(tmp_path):
    recording = Recording(spool_dir=tmp_path)
    recording.feed(packet(1, 0, b"\xff" * 160))
    recording.feed(packet(3, 320, b"\xff" * 160))
    recording.feed(packet(2, 160, b"\x80" * 160))
    out = samples(recording.finish())
    assert set(out[160:320]) == {32124} and set(out[:160]) == set(out[320:]) == {0}


def test_timestamp_wrap_and_new_stream(tmp_path):
    recording = Recording(spool_dir=tmp_path)
    recording.feed(packet(1, 2**32 - 160, b"\xff" * 160))
    recording.feed(packet(2, 0, b"\xff" * 160))
    recording.feed(packet(3, 999_999, b"\x80" * 160, ssrc=99))  # a new SSRC continues, it does not jump
    assert len(samples(recording.finish())) == 480


def test_malformed_and_non_audio_packets_are_skipped(tmp_path):
    recording = Recording(spool_dir=tmp_path)
    for bad in (
        b"",
        b"\x80",
        b"\x00" * 20,
        packet(1, 0, b"", payload_type=101),
        packet(1, 0, b"\x05", payload_type=13),
    ):
        recording.feed(bad)
    recording.feed(packet(2, 0, b"\xff" * 160))
    assert recording.packets == 1
    assert len(samples(recording.finish())) == 160


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x80" * 11, "shorter"),
        (b"\x40" + b"\x00" * 11, "version"),
        (b"\x90\x00" + b"\x00" * 10, "extension"),
    ],
)
def test_parse_rtp_rejects(raw, reason):
    with pytest.raises(RtpError, match=reason):
        parse_rtp(raw)


def test_parse_rtp_skips_csrcs_extension_and_padding():
    header = struct.pack("!BBHII", 0xB1, 0x88, 5, 160, 1) + b"\x00" * 4  # padding, extension, one CSRC
    extension = b"\xbe\xde\x00\x01" + b"\x00" * 4
    parsed = parse_rtp(header + extension + b"\x01\x02\x03" + b"\x00\x02")
    assert (parsed.payload_type, parsed.marker, parsed.payload) == (8, True, b"\x01\x02\x03")


def test_wav_header_matches_the_data():
    assert wav_header(320)[40:44] == struct.pack("<I", 320)
    assert len(wav_header(0)) == 44


def test_discard_removes_the_spool_file(tmp_path):
    recording = Recording(spool_dir=tmp_path)
    recording.feed(packet(1, 0, b"\xff" * 160))
    recording.discard()
    assert list(tmp_path.iterdir()) == []


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_timestamp_jumps_are_gaps_bounded_by_the_wall_clock(tmp_path):
    """The attack of the issue: every packet jumps 80,000 samples. 100 packets of 20 ms are 2 s of
    call, and the file holds 2 s of audio, not 100 x 10 s."""
    clock = Clock()
    recording = Recording(spool_dir=tmp_path, clock=clock)
    for n in range(100):
        recording.feed(packet(n, n * 80_000, b"\x80" * 160))
        clock.now += 0.02
    path = recording.finish()
    assert path.stat().st_size <= 44 + 2 * 8000 * 2 + 2 * int(Recording.SLACK_SECONDS * 8000)
    assert len(samples(path)) >= 2 * 8000 - 160  # the audio that came is all there, one packet each


def test_a_sender_far_ahead_of_time_cannot_grow_the_file(tmp_path):
    clock = Clock()
    recording = Recording(spool_dir=tmp_path, clock=clock)
    recording.feed(packet(0, 0, b"\xff" * 160))
    for n in range(1, 500):  # 10 s of timestamps sent within one instant
        recording.feed(packet(n, n * 160, b"\xff" * 160))
    assert len(samples(recording.finish())) <= 160 + int(Recording.SLACK_SECONDS * 8000)


def test_paused_audio_is_silence_including_late_packets(tmp_path):
    clock = Clock()
    recording = Recording(spool_dir=tmp_path, clock=clock)
    loud = b"\x80" * 160
    late = []
    for n in range(300):  # 6 s at 20 ms, paused from 2 s to 4 s
        if n == 100:
            assert recording.pause(by="agent-1") is not None
            assert recording.pause(by="agent-1") is None  # already paused
        if n == 200:
            assert recording.resume(by="supervisor-1").end == 4.0
            for held in late:  # packets of the paused span delivered late, after the resume
                recording.feed(held)
        sent = packet(n, n * 160, loud)
        if 100 <= n < 200 and n % 10 == 0:
            late.append(sent)
        else:
            recording.feed(sent)
        clock.now += 0.02
    out = samples(recording.finish())
    assert len(out) == 300 * 160
    assert set(out[: 2 * 8000]) == {32124}
    assert set(out[2 * 8000 : 4 * 8000]) == {0}
    assert set(out[4 * 8000 :]) == {32124}
    (interval,) = recording.paused
    assert (interval.start, interval.end, interval.paused_by, interval.resumed_by) == (
        2.0,
        4.0,
        "agent-1",
        "supervisor-1",
    )


def test_idle_seconds_count_from_the_last_packet(tmp_path):
    clock = Clock()
    recording = Recording(spool_dir=tmp_path, clock=clock)
    clock.now += 3
    assert recording.idle_seconds() == 3
    recording.feed(packet(0, 0, b"\xff" * 160))
    clock.now += 1.5
    assert recording.idle_seconds() == 1.5
    recording.discard()
