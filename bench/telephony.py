"""Telephony benchmark: INVITE to confirmed `call_ringing`, and concurrent recorded calls without audio loss.

    .venv/bin/python bench/telephony.py [--quick]

Starts its own SIP edge and telephony service on free ports, against the broker at CRS_TEST_AMQP_URL (a
throwaway vhost). Two measurements:

1. Calls are offered at 10, 50 and 100 attempts/s for 60 s each (5 s with --quick) by a raw-UDP caller
   through the edge, each cancelled once it rings. Latency runs from the INVITE leaving the caller's
   socket to the `call_ringing` event reaching a consumer on the bus, which is after the broker's confirm
   to the publisher (so it slightly overstates INVITE-to-confirm). Lost = INVITEs without a call_ringing.
2. N recorded calls are held at once, each sent 20 ms PCMU packets for a few seconds; then every WAV is
   read back and 20 ms blocks of silence inside the sent span count as lost audio. N grows until audio
   is lost or the largest step passes.
3. PCI pause and resume: on a recorded call carrying RTP, pause and resume alternate through the
   recording control API; latency runs from the request leaving the client to its answer, which
   telephony gives only once the recorder has changed state (so it bounds the time to take effect).

Exit status 1 when a part measured nothing, when events or answers did not arrive in time, or when a
pause/resume p99 exceeds 100 ms: a run that did not do its work never reports success.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
import uuid
import wave
from pathlib import Path

import pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.cli.recording import change
from services.runtime.principal import Principal
from services.telephony import sipmsg
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.support import infra
from tests.support.wait import wait_for

SDP = (
    "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


class RingingListener:
    """Consumes call_ringing and call_ended on its own connection and notes when each arrived."""

    def __init__(self, amqp_url: str):
        self.arrived: dict[str, float] = {}
        self.ended: dict[str, dict] = {}
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = self.connection.channel()
        channel.exchange_declare("telephony.events", exchange_type="topic", durable=True, auto_delete=False)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, "telephony.events", routing_key="call_ringing")
        channel.queue_bind(queue, "telephony.events", routing_key="call_ended")
        channel.basic_qos(prefetch_count=1000)
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self.channel = channel
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_message(self, channel, method, properties, body) -> None:
        now = time.monotonic()
        event = json.loads(body)
        if event["type"] == "call_ringing":
            self.arrived.setdefault(event["correlationid"], now)
        else:
            self.ended[event["correlationid"]] = event["data"]

    def _run(self) -> None:
        while not self._stop:
            self.connection.process_data_events(time_limit=0.2)

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        self.connection.close()


class Caller:
    """A raw-UDP SIP caller through the edge: INVITE, CANCEL on 180, or answer-and-hold for recording."""

    def __init__(self, edge: tuple[str, int]):
        self.edge = edge
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sent: dict[str, float] = {}
        self.answers: dict[str, sipmsg.SipMessage] = {}
        self.cancel_on_ring = True
        self._invites: dict[str, str] = {}
        self._running = True
        threading.Thread(target=self._receive, daemon=True).start()

    def invite(self, call_id: str, extension: str, rtp_port: int = 9) -> None:
        branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        body = SDP.format(port=rtp_port)
        head = (
            f"INVITE sip:{extension}@{self.edge[0]}:{self.edge[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\r\n"
            f"From: <sip:+1614555{len(self.sent) % 10000:04d}@127.0.0.1>;tag=b{len(self.sent)}\r\n"
            f"To: <sip:{extension}@{self.edge[0]}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:bench@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self._invites[call_id] = head.split("\r\n", 2)[1]  # its Via, for the CANCEL
        self.sent[call_id] = time.monotonic()
        self.sock.sendto((head + body).encode(), self.edge)

    def _receive(self) -> None:
        self.sock.settimeout(0.2)
        while self._running:
            try:
                message = sipmsg.parse(self.sock.recv(65535))
            except (TimeoutError, sipmsg.SipParseError):
                continue
            except OSError:
                return
            if message.is_request:
                if message.method == "BYE":
                    self.sock.sendto(sipmsg.response(message, 200, "OK"), self.edge)
                continue
            method = message.cseq[1]
            if method == "INVITE" and message.status == 180 and self.cancel_on_ring:
                self._cancel(message)
            elif method == "INVITE" and message.status >= 300:
                self._ack_failure(message)
            elif method == "INVITE" and message.status == 200:
                self.answers[message.call_id] = message
                self._in_dialog("ACK", message, cseq=1)

    def _cancel(self, ringing: sipmsg.SipMessage) -> None:
        via = self._invites.get(ringing.call_id)
        if via is None:
            return
        self.sock.sendto(
            (
                f"CANCEL sip:x@{self.edge[0]}:{self.edge[1]} SIP/2.0\r\n{via}\r\n"
                f"From: {ringing.get('From')}\r\nTo: {ringing.get('To').split(';tag=')[0]}\r\n"
                f"Call-ID: {ringing.call_id}\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            self.edge,
        )

    def _ack_failure(self, final: sipmsg.SipMessage) -> None:
        via = self._invites.get(final.call_id)
        if via is None:
            return
        self.sock.sendto(
            (
                f"ACK sip:x@{self.edge[0]}:{self.edge[1]} SIP/2.0\r\n{via}\r\nFrom: {final.get('From')}\r\n"
                f"To: {final.get('To')}\r\nCall-ID: {final.call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode(),
            self.edge,
        )

    def _in_dialog(self, method: str, answer: sipmsg.SipMessage, *, cseq: int) -> None:
        contact = answer.get("Contact").strip("<>").split(">")[0]
        routes = "".join(f"Route: {hop}\r\n" for hop in reversed(answer.get_all("Record-Route")))
        self.sock.sendto(
            (
                f"{method} {contact} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport\r\n"
                f"{routes}From: {answer.get('From')}\r\nTo: {answer.get('To')}\r\nCall-ID: {answer.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            self.edge,
        )

    def hang_up(self, call_id: str) -> None:
        self._in_dialog("BYE", self.answers[call_id], cseq=2)

    def close(self) -> None:
        self._running = False
        self.sock.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ringing_latency(edge, listener: RingingListener, *, rate: int, seconds: float) -> dict:
    caller = Caller(edge)
    prefix = f"bench-{rate}-{uuid.uuid4().hex[:6]}"
    total = int(rate * seconds)
    start = time.monotonic()
    for n in range(total):
        # Offer on schedule, not back to back: each INVITE leaves at start + n / rate.
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        caller.invite(f"{prefix}-{n}", "bench")
    ids = [f"{prefix}-{n}" for n in range(total)]
    try:
        wait_for(lambda: all(i in listener.arrived for i in ids), timeout=30, interval=0.2)
        timed_out = False
    except AssertionError:
        timed_out = True  # reported as lost below, and the run fails
    latencies = [(listener.arrived[i] - caller.sent[i]) * 1000 for i in ids if i in listener.arrived]
    caller.close()
    return {
        "rate": rate,
        "offered": total,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "lost": total - len(latencies),
        "failed": timed_out or not latencies,
    }


def silent_blocks(path: Path, *, skip: int = 2) -> tuple[int, int]:
    """(silent 20 ms blocks, all blocks) in a recording, ignoring the last `skip` blocks (hang-up edge)."""
    with wave.open(str(path), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
    blocks = [frames[i : i + 320] for i in range(0, len(frames) - 320 * skip, 320)]
    return sum(1 for block in blocks if block.count(0) == len(block)), len(blocks)


def concurrent_recordings(edge, listener: RingingListener, service, *, calls: int, seconds: float) -> dict:
    caller = Caller(edge)
    caller.cancel_on_ring = False
    # Telephony takes RTP only from the address and port each offer names: one socket sends for all.
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    prefix = f"rec-{calls}-{uuid.uuid4().hex[:6]}"
    ids = [f"{prefix}-{n}" for n in range(calls)]
    for n, call_id in enumerate(ids):
        caller.invite(call_id, "1001", rtp_port=rtp.getsockname()[1])
        if n % 20 == 19:
            time.sleep(0.05)
    answered = wait_for(lambda: len(caller.answers) == calls, timeout=60, interval=0.1) and caller.answers
    targets = []
    for call_id in ids:
        sdp = answered[call_id].body.decode()
        port = int(next(line for line in sdp.splitlines() if line.startswith("m=audio")).split()[1])
        targets.append(("127.0.0.1", port))
    payload = b"\x90" * 160  # loud enough that no decoded sample is zero
    packets = int(seconds * 50)
    start = time.monotonic()
    for sequence in range(packets):
        delay = start + sequence * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        header_tail = struct.pack("!HI", sequence, sequence * 160)
        for index, target in enumerate(targets):
            rtp.sendto(b"\x80\x00" + header_tail + struct.pack("!I", index) + payload, target)
    late = time.monotonic() - start - seconds
    time.sleep(0.3)  # let the last packets reach the recorder before the BYEs close the RTP sockets
    for call_id in ids:
        caller.hang_up(call_id)
    wait_for(lambda: all(i in listener.ended for i in ids), timeout=60, interval=0.2)
    lost = total = 0
    for call_id in ids:
        key = listener.ended[call_id].get("recording_key")
        if not key:
            lost += packets
            continue
        silent, blocks = silent_blocks(service.recordings / key)
        lost += silent + max(0, packets - 2 - blocks)
        total += blocks
    caller.close()
    rtp.close()
    return {
        "calls": calls,
        "seconds": seconds,
        "blocks_recorded": total,
        "blocks_lost": lost,
        "sender_late_s": round(late, 2),
        "failed": total == 0,
    }


def pause_resume_latency(edge, service, *, pairs: int) -> dict:
    """Alternate pause and resume on one recorded call carrying RTP; request-to-answer latency."""
    caller = Caller(edge)
    caller.cancel_on_ring = False
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    call_id = f"pci-{uuid.uuid4().hex[:8]}"
    caller.invite(call_id, "1001", rtp_port=rtp.getsockname()[1])
    answer = wait_for(lambda: caller.answers.get(call_id), timeout=30, interval=0.05)
    sdp = answer.body.decode()
    target = ("127.0.0.1", int(next(x for x in sdp.splitlines() if x.startswith("m=audio")).split()[1]))
    stop = threading.Event()

    def stream() -> None:
        sequence = 0
        start = time.monotonic()
        while not stop.is_set():
            rtp.sendto(
                b"\x80\x00" + struct.pack("!HII", sequence & 0xFFFF, sequence * 160, 1) + b"\x90" * 160,
                target,
            )
            sequence += 1
            time.sleep(max(0.0, start + sequence * 0.02 - time.monotonic()))

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    control = f"127.0.0.1:{service.control_port}"
    actor = Principal(username="bench-agent", role="agent")
    latencies: dict[str, list[float]] = {"pause": [], "resume": []}
    for _ in range(pairs):
        for action in ("pause", "resume"):
            started = time.perf_counter()
            state = change(action, call_id, target=control, actor=actor)
            latencies[action].append((time.perf_counter() - started) * 1000)
            assert state.changed and state.paused == (action == "pause"), state
            time.sleep(0.05)  # 50 ms of audio between changes, as between an agent's clicks
    stop.set()
    sender.join()
    caller.hang_up(call_id)
    caller.close()
    rtp.close()
    both = latencies["pause"] + latencies["resume"]
    p99 = percentile(both, 0.99)
    return {
        "changes": len(both),
        "pause_p50_ms": round(statistics.median(latencies["pause"]), 2),
        "pause_p99_ms": round(percentile(latencies["pause"], 0.99), 2),
        "resume_p50_ms": round(statistics.median(latencies["resume"]), 2),
        "resume_p99_ms": round(percentile(latencies["resume"], 0.99), 2),
        "p99_ms": round(p99, 2),
        "failed": p99 > 100,
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_parts(args, edge, listener: RingingListener, service, *, steps: list[int], seconds: float) -> bool:
    """Run the parts asked for and print each result; False when any of them failed."""
    pid = service.process.popen.pid
    results = []
    print("INVITE -> call_ringing on the bus (after the broker's confirm)")
    for rate in (10, 50, 100) if args.part in ("all", "latency") else ():
        cpu, wall = cpu_seconds(pid), time.monotonic()
        result = ringing_latency(edge, listener, rate=rate, seconds=seconds)
        result["telephony_cpu_pct"] = round(100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - wall), 1)
        result["load"] = round(os.getloadavg()[0], 2)
        results.append(result)
        print("  " + json.dumps(result))
    print("concurrent recorded calls (20 ms PCMU packets; a lost block is 20 ms of silence)")
    for calls in steps if args.part in ("all", "recordings") else ():
        cpu, wall = cpu_seconds(pid), time.monotonic()
        result = concurrent_recordings(edge, listener, service, calls=calls, seconds=4 if args.quick else 10)
        result["telephony_cpu_pct"] = round(100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - wall), 1)
        result["load"] = round(os.getloadavg()[0], 2)
        results.append(result)
        print("  " + json.dumps(result))
        if result["blocks_lost"]:
            break
    print("PCI pause/resume: request to answer (the recorder has changed state when it answers)")
    if args.part in ("all", "pause"):
        result = pause_resume_latency(edge, service, pairs=25 if args.quick else 100)
        result["load"] = round(os.getloadavg()[0], 2)
        results.append(result)
        print("  " + json.dumps(result))
    if not results:
        print("FAILED: nothing was measured", file=sys.stderr)
        return False
    failed = [r for r in results if r["failed"]]
    for result in failed:
        print(f"FAILED: {json.dumps(result)}", file=sys.stderr)
    return not failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per rate and smaller concurrency steps")
    parser.add_argument("--part", choices=("all", "latency", "recordings", "pause"), default="all")
    args = parser.parse_args()
    seconds = 5 if args.quick else 60
    steps = [50, 100] if args.quick else [50, 100, 200, 300, 500, 800, 1000]
    vhost = infra.unique_name("crs-bench")
    amqp_url = infra.create_vhost(vhost)
    tmp = Path(tempfile.mkdtemp(prefix="crs-bench-telephony-"))
    started = []
    try:
        edge_process, edge_address = start_edge(tmp)  # the caller is the trunk: pike does not apply
        started.append(edge_process)
        service = start_telephony(
            tmp, amqp_url=amqp_url, edge=edge_address, CRS_LOG_LEVEL="WARNING", CRS_ANSWER_DELAY_SECONDS="0",
            CRS_TELEPHONY_MAX_CALLS="2000", CRS_RTP_PORT_LOW="40000", CRS_RTP_PORT_HIGH="49999",
        )  # fmt: skip
        started.append(service.process)
        edge = (edge_address.split(":")[0], int(edge_address.split(":")[1]))
        listener = RingingListener(amqp_url)
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores, shared)")
        try:
            ok = run_parts(args, edge, listener, service, steps=steps, seconds=seconds)
        finally:
            listener.close()
    finally:
        for process in reversed(started):
            process.stop()
        infra.delete_vhost(vhost)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
