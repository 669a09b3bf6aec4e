"""The telephony stack as processes, for tests: the kamailio edge, the telephony service, a bus listener.

Every port is picked free at start; nothing here uses 5060 or any other fixed port.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pika

from services.cli.call import free_udp_port
from tests.support.wait import wait_for

REPO = Path(__file__).resolve().parents[3]
# Digest credentials of this test run, generated as `crs run` generates them: the edge and telephony
# share the registration password; the peer account is what an untrusted caller may authenticate with.
SIP_PASSWORD = secrets.token_urlsafe(18)
PEER_USERNAME = "crs-peer"
PEER_PASSWORD = secrets.token_urlsafe(18)


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Process:
    """A child process whose stderr and stdout go to a log file the test can read."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log_file = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            self.command, env=self.env, cwd=REPO, stdout=self.log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait; returns the exit code (kills only if it will not stop)."""
        if self.popen is None:
            return 0
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log_file.close()
        return self.popen.returncode


@contextlib.contextmanager
def stopped_on_failure(process: Process):
    """Stop `process` if the block fails, so that a start that times out leaves nothing running."""
    try:
        yield
    except BaseException:
        process.stop()
        raise


def sip_options(address: tuple[str, int], *, timeout: float = 0.3) -> str:
    """Send OPTIONS to `address` and return the reply's first line ("" when nothing came back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        port = sock.getsockname()[1]
        call_id = uuid.uuid4().hex
        request = (
            f"OPTIONS sip:{address[0]}:{address[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id[:12]};rport\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={call_id[:6]}\r\nTo: <sip:{address[0]}:{address[1]}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), address)
        try:
            return sock.recv(65535).split(b"\r\n", 1)[0].decode()
        except TimeoutError:
            return ""


def python(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def start_edge(
    tmp: Path, *, pike_density: int = 40, trunks: str = "127.0.0.1/32", **settings: str
) -> tuple[Process, str]:
    """kamailio through `python -m services.telephony.edge`, on a free port, answering OPTIONS.

    The trunk is 127.0.0.1, so callers on other loopback addresses (127.0.0.2, ...) are untrusted."""
    port = free_udp_port()
    env = dict(
        os.environ,
        CRS_SIP_EDGE_PORT=str(port),
        CRS_SIP_EDGE_PIKE_DENSITY=str(pike_density),
        CRS_SIP_PASSWORD=SIP_PASSWORD,
        CRS_SIP_TRUNKS=trunks,
        CRS_SIP_PEER_USERNAME=PEER_USERNAME,
        CRS_SIP_PEER_PASSWORD=PEER_PASSWORD,
    )
    env.update(settings)
    process = Process("edge", python("services.telephony.edge"), env, tmp / "edge.log").start()
    with stopped_on_failure(process):
        wait_for(
            lambda: not process.alive() or sip_options(("127.0.0.1", port)).startswith("SIP/2.0 200"),
            timeout=15,
            what="the SIP edge to answer OPTIONS",
        )
        assert process.alive(), process.log()
    return process, f"127.0.0.1:{port}"


@dataclass
class Telephony:
    process: Process
    sip_port: int
    metrics_port: int
    recordings: Path
    control_port: int
    env: dict[str, str] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The service's Prometheus samples without labels, by name."""
        text = (
            urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        )
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, _, value = line.partition(" ")
                samples[name] = float(value)
        return samples

    def idle(self) -> bool:
        """No call, dialog, RTP port or recording held."""
        m = self.metrics()
        return all(
            m.get(name) == 0
            for name in (
                "crs_telephony_calls_in_progress",
                "crs_telephony_sip_dialogs",
                "crs_telephony_media_calls",
                "crs_telephony_rtp_ports_in_use",
                "crs_telephony_recordings_open",
            )
        )


def start_telephony(tmp: Path, *, amqp_url: str, edge: str, **settings: str) -> Telephony:
    """`python -m services.telephony` registered with `edge`, publishing to `amqp_url`."""
    sip_port, metrics_port = free_udp_port(), free_tcp_port()
    control_port = free_tcp_port()
    while control_port == metrics_port:
        control_port = free_tcp_port()
    recordings = tmp / "recordings"
    rtp_low = 30000 + (os.getpid() % 200) * 100
    env = dict(
        os.environ,
        CRS_SIP_PASSWORD=SIP_PASSWORD,
        CRS_AMQP_URL=amqp_url,
        CRS_SIP_PORT=str(sip_port),
        CRS_SIP_EDGE=edge,
        CRS_TELEPHONY_METRICS_PORT=str(metrics_port),
        CRS_TELEPHONY_GRPC=f"127.0.0.1:{control_port}",
        CRS_RECORDINGS_URL=recordings.as_uri(),
        CRS_RTP_PORT_LOW=str(rtp_low),
        CRS_RTP_PORT_HIGH=str(rtp_low + 999),
        CRS_RECORD_EXTENSIONS="1001,1002,1003",
        CRS_ANSWER_DELAY_SECONDS="0.3",
        CRS_LOG_LEVEL="INFO",
        CRS_TELEPHONY_EVENT_SPOOL=str(tmp / f"unsent-events-{sip_port}.jsonl"),
    )
    env.update(settings)
    log_path = tmp / f"telephony-{sip_port}.log"
    process = Process("telephony", python("services.telephony"), env, log_path).start()
    service = Telephony(process, sip_port, metrics_port, recordings, control_port, env)

    def registered() -> bool:
        try:
            return service.metrics().get("crs_telephony_sip_registered") == 1
        except OSError:
            return False

    with stopped_on_failure(process):
        wait_for(
            lambda: not process.alive() or registered(),
            timeout=20,
            what="telephony to register with the edge",
        )
        assert process.alive(), process.log()
    return service


class BusListener:
    """An exclusive queue bound to every event on `telephony.events`."""

    def __init__(self, amqp_url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(
            "telephony.events", exchange_type="topic", durable=True, auto_delete=False
        )
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, "telephony.events", routing_key="#")
        self.received: list[dict] = []

    def poll(self) -> list[dict]:
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.received
            event = json.loads(body)
            event["_properties"] = properties
            event["_routing_key"] = method.routing_key
            self.received.append(event)

    def of_call(self, call_id: str, event_type: str | None = None) -> list[dict]:
        return [
            e
            for e in self.poll()
            if e.get("correlationid") == call_id and (event_type is None or e["type"] == event_type)
        ]

    def wait_for(self, call_id: str, event_type: str, *, timeout: float = 15) -> dict:
        return wait_for(lambda: self.of_call(call_id, event_type), timeout=timeout, what=event_type)[0]

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


class TcpProxy:
    """A TCP forwarder to `target` that a test can cut (every connection dropped) and restore."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_tcp_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                if listener is not self._listener:  # cut while this one was being accepted
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and drop the open ones, as a broker that died would."""
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            sockets, self._sockets = self._sockets, []
        for end in sockets:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def url(self, amqp_url: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(amqp_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        netloc = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
