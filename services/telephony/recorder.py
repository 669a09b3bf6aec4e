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
from dataclasses import dataclass

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


class Recording:
    """One call's audio, spooled to a temp file as it arrives; `finish()` returns the WAV bytes."""

    def __init__(self, *, spool_dir: str | None = None, max_seconds: float = 4 * 3600):
        fd, self.path = tempfile.mkstemp(prefix="call-", suffix=".pcm", dir=spool_dir)
        self._file = os.fdopen(fd, "w+b")
        self._lock = threading.Lock()
        self._base: int | None = None
        self._ssrc: int | None = None
        self._last_raw = 0
        self._last_unwrapped = 0
        self._end = 0
        self._max_samples = int(max_seconds * SAMPLE_RATE)
        self.packets = 0
        self.rejected = 0
        self.closed = False

    def feed(self, datagram: bytes) -> None:
        """Take one datagram from the RTP socket; malformed ones are counted and skipped."""
        try:
            packet = parse_rtp(datagram)
        except RtpError:
            self.rejected += 1
            REJECTED.inc()
            return
        if packet.payload_type not in DECODERS:
            return  # telephone-event and comfort noise carry no audio to record
        with self._lock:
            if self.closed:
                return
            position = self._position(packet)
            if position is None or position >= self._max_samples:
                self.rejected += 1
                return
            pcm = decode_g711(packet.payload, packet.payload_type)
            self._file.seek(position * 2)
            self._file.write(pcm)
            self._end = max(self._end, position * 2 + len(pcm))
            self.packets += 1
        RECORDED.inc()

    def _position(self, packet: RtpPacket) -> int | None:
        """The sample offset of the packet in the recording, unwrapping 32-bit timestamps."""
        if self._base is None:
            self._base = self._last_unwrapped = self._last_raw = packet.timestamp
            self._ssrc = packet.ssrc
            return 0
        delta = (packet.timestamp - self._last_raw + 2**31) % 2**32 - 2**31
        if packet.ssrc != self._ssrc or abs(delta) > MAX_GAP_SAMPLES:
            # A new stream continues where the recording has got to, not at its own timestamp.
            self._ssrc = packet.ssrc
            self._last_raw = packet.timestamp
            self._last_unwrapped = self._base + self._end // 2
            return self._end // 2
        unwrapped = self._last_unwrapped + delta
        if delta > 0:
            self._last_raw, self._last_unwrapped = packet.timestamp, unwrapped
        position = unwrapped - self._base
        return position if position >= 0 else None

    def finish(self) -> bytes:
        """Stop recording and return the WAV file's bytes; the spool file is removed."""
        with self._lock:
            self.closed = True
            self._file.seek(0)
            pcm = self._file.read(self._end)
            self._file.close()
            os.unlink(self.path)
        return wav_header(len(pcm)) + pcm

    def discard(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self._file.close()
                os.unlink(self.path)
