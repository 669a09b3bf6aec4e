"""Call recording: RTP packets in, a 16-bit PCM WAV out, placed by RTP timestamp.

Each packet's audio is written at the offset its timestamp gives, so a lost packet leaves silence (not a
click, not a shift of everything after it) and a late one lands where it belongs. G.711 is decoded with
tables built here, because `audioop` is gone in Python 3.13.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import Counter

log = logging.getLogger(__name__)

RECORDED = Counter("crs_telephony_rtp_packets_recorded_total", "RTP packets written to recordings")
REJECTED = Counter("crs_telephony_rtp_packets_rejected_total", "RTP packets that were not RTP")

SAMPLE_RATE = 8000
PCMU, PCMA, TELEPHONE_EVENT = 0, 8, 101
# A jump of more than this many samples is a new stream (a re-INVITE, a new SSRC), not a gap to fill.
MAX_GAP_SAMPLES = SAMPLE_RATE * 10


def _ulaw_to_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = ((byte & 0x0F) << 3) + 0x84
    magnitude <<= (byte & 0x70) >> 4
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def _alaw_to_linear(byte: int) -> int:
    byte ^= 0x55
    exponent = (byte & 0x70) >> 4
    mantissa = byte & 0x0F
    value = (mantissa << 4) + 8
    if exponent:
        value = (value + 0x100) << (exponent - 1)
    return value if byte & 0x80 else -value


def _byte_tables(decode) -> tuple[bytes, bytes]:
    """Translate tables giving the low and the high byte of each code's 16-bit little-endian sample."""
    samples = [struct.pack("<h", decode(code)) for code in range(256)]
    return bytes(sample[0] for sample in samples), bytes(sample[1] for sample in samples)


DECODERS = {PCMU: _byte_tables(_ulaw_to_linear), PCMA: _byte_tables(_alaw_to_linear)}


def decode_g711(payload: bytes, payload_type: int) -> bytes:
    """16-bit little-endian PCM for a PCMU (0) or PCMA (8) payload."""
    # Two C-speed translations and an interleave: a per-byte Python loop cost ten times more, and at a
    # few hundred calls it is the recorder's hot path.
    low, high = DECODERS[payload_type]
    pcm = bytearray(2 * len(payload))
    pcm[0::2] = payload.translate(low)
    pcm[1::2] = payload.translate(high)
    return bytes(pcm)


def wav_header(data_bytes: int, *, rate: int = SAMPLE_RATE) -> bytes:
    """The 44-byte RIFF header of a mono 16-bit PCM WAV with `data_bytes` of samples."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        rate,
        rate * 2,
        2,
        16,
        b"data",
        data_bytes,
    )


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


class RtpError(ValueError):
    pass


def parse_rtp(packet: bytes) -> RtpPacket:
    """Parse an RTP packet (RFC 3550 section 5.1); raises RtpError for anything malformed."""
    if len(packet) < 12:
        raise RtpError(f"{len(packet)} bytes is shorter than an RTP header")
    first, second = packet[0], packet[1]
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(packet) < offset + 4:
            raise RtpError("truncated header extension")
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    end = len(packet)
    if first & 0x20:
        padding = packet[-1]
        if padding == 0 or padding > end - offset:
            raise RtpError("bad padding")
        end -= padding
    if offset > end:
        raise RtpError("header longer than packet")
    sequence, timestamp, ssrc = struct.unpack("!HII", packet[2:12])
    return RtpPacket(second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, packet[offset:end])


@dataclass
class PausedInterval:
    """A span of a recording kept silent (card details read out), in seconds from its first packet."""

    start: float
    end: float | None = None
    paused_by: str = ""
    resumed_by: str = ""
    paused_at: datetime | None = None
    resumed_at: datetime | None = None


class Recording:
    """One call's audio, written to a WAV spool file as it arrives; `finish()` completes the file.

    Placement by timestamp is bounded by the wall clock: a packet may land at most `SLACK_SECONDS` past
    the time since the first packet. One further out (a timestamp jump, a hostile or broken sender) is
    treated as a gap, and the stream goes on from where the wall clock says the call is. So the file
    is never larger than the call has lasted, whatever the timestamps say. Nothing is held in memory:
    the header is rewritten in place when the recording finishes.

    While paused, no audio reaches the file: packets that arrive are dropped, and late packets whose
    samples fall in a paused span are silenced there, so a card number read out is never on disk.
    """

    SLACK_SECONDS = 0.5

    def __init__(
        self,
        *,
        spool_dir: str | None = None,
        max_seconds: float = 4 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ):
        fd, name = tempfile.mkstemp(prefix="call-", suffix=".wav", dir=spool_dir)
        self.path = Path(name)
        self._file = os.fdopen(fd, "w+b")
        self._file.write(wav_header(0))
        self._clock = clock
        self._lock = threading.Lock()
        self._base: int | None = None
        self._ssrc: int | None = None
        self._last_raw = 0
        self._last_unwrapped = 0
        self._end = 0  # bytes of PCM after the header
        self._max_samples = int(max_seconds * SAMPLE_RATE)
        self.started_at: float | None = None  # clock at the first packet
        self.last_packet_at: float | None = None
        self.created_at = clock()
        self.paused: list[PausedInterval] = []
        self.packets = 0
        self.rejected = 0
        self.gaps = 0
        self.closed = False

    # -- pause ---------------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return 0.0 if self.started_at is None else max(0.0, self._clock() - self.started_at)

    @property
    def is_paused(self) -> bool:
        return bool(self.paused) and self.paused[-1].end is None

    def pause(self, *, by: str = "") -> PausedInterval | None:
        """Silence the recording from now; None when it already was (pausing twice changes nothing)."""
        with self._lock:
            if self.is_paused or self.closed:
                return None
            interval = PausedInterval(
                start=round(self._elapsed(), 3), paused_by=by, paused_at=datetime.now(UTC)
            )
            self.paused.append(interval)
            return interval

    def resume(self, *, by: str = "") -> PausedInterval | None:
        """Record again from now; None when it was not paused."""
        with self._lock:
            if not self.is_paused or self.closed:
                return None
            interval = self.paused[-1]
            interval.end = round(self._elapsed(), 3)
            interval.resumed_by = by
            interval.resumed_at = datetime.now(UTC)
            return interval

    def _silence_paused(self, position: int, pcm: bytes) -> bytes:
        """`pcm` starting at sample `position`, with the samples inside closed paused spans zeroed."""
        length = len(pcm) // 2
        out = None
        for interval in self.paused:
            if interval.end is None:
                continue
            start, end = int(interval.start * SAMPLE_RATE), int(interval.end * SAMPLE_RATE)
            low, high = max(start, position), min(end, position + length)
            if low < high:
                out = out if out is not None else bytearray(pcm)
                out[(low - position) * 2 : (high - position) * 2] = bytes(2 * (high - low))
        return pcm if out is None else bytes(out)

    # -- audio ---------------------------------------------------------------------------------------

    def idle_seconds(self) -> float:
        """Time since the last packet (or since the recording began, when none came)."""
        last = self.last_packet_at if self.last_packet_at is not None else self.created_at
        return max(0.0, self._clock() - last)

    def feed(self, datagram: bytes) -> None:
        """Take one datagram from the RTP socket; malformed ones are counted and skipped."""
        try:
            packet = parse_rtp(datagram)
        except RtpError:
            self.rejected += 1
            REJECTED.inc()
            return
        now = self._clock()
        if packet.payload_type not in DECODERS:
            self.last_packet_at = now  # telephone-event and comfort noise: media, but no audio to record
            return
        with self._lock:
            if self.closed:
                return
            self.last_packet_at = now
            if self.started_at is None:
                self.started_at = now
            if self.is_paused:
                return
            samples = len(packet.payload)
            position = self._position(packet, samples)
            if position is None or position + samples > self._max_samples:
                self.rejected += 1
                return
            pcm = self._silence_paused(position, decode_g711(packet.payload, packet.payload_type))
            self._file.seek(44 + position * 2)
            self._file.write(pcm)
            self._end = max(self._end, position * 2 + len(pcm))
            self.packets += 1
        RECORDED.inc()

    def _wall_position(self) -> int:
        return int(self._elapsed() * SAMPLE_RATE)

    def _position(self, packet: RtpPacket, samples: int) -> int | None:
        """The sample offset of the packet in the recording, unwrapping 32-bit timestamps."""
        if self._base is None:
            self._base = self._last_unwrapped = self._last_raw = packet.timestamp
            self._ssrc = packet.ssrc
            return 0
        delta = (packet.timestamp - self._last_raw + 2**31) % 2**32 - 2**31
        unwrapped = self._last_unwrapped + delta
        position = unwrapped - self._base
        bound = self._wall_position() + int(self.SLACK_SECONDS * SAMPLE_RATE)
        if packet.ssrc != self._ssrc or abs(delta) > MAX_GAP_SAMPLES or position + samples > bound:
            # A new stream, or a jump the clock does not allow: go on from where the call has got to.
            self.gaps += 1
            self._ssrc = packet.ssrc
            position = max(self._end // 2, min(self._wall_position(), bound - samples))
            if position + samples > bound:
                return None  # already as far as the clock allows: audio from the future is dropped
            self._last_raw = packet.timestamp
            self._last_unwrapped = self._base + position
            return position
        if delta > 0:
            self._last_raw, self._last_unwrapped = packet.timestamp, unwrapped
        return position if position >= 0 else None

    def finish(self) -> Path:
        """Stop recording and complete the WAV spool file, whose path is returned; the caller stores
        it and then calls `discard()` to remove it."""
        with self._lock:
            self.closed = True
            if self.is_paused:
                self.paused[-1].end = round(self._elapsed(), 3)  # the call ended while paused
            self._file.truncate(44 + self._end)
            self._file.seek(0)
            self._file.write(wav_header(self._end))
            self._file.close()
        return self.path

    @property
    def audio_seconds(self) -> float:
        return self._end / 2 / SAMPLE_RATE

    def discard(self) -> None:
        """Remove the spool file (after it was stored, or when the call is not kept)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._file.close()
        self.path.unlink(missing_ok=True)
