"""Container health check: asks the process in this container whether it serves.

Which process runs is read from PID 1's command line (`python -m services.<name>`), or given as
`--service NAME`. gRPC servers answer grpc.health.v1; the SIP edge answers an OPTIONS ping; every other
process answers on its Prometheus port. Ports come from the same settings the service reads.
Exit code 0 means healthy, 1 unhealthy (Docker's HEALTHCHECK convention).
"""

from __future__ import annotations

import argparse
import socket
import sys
import urllib.request
import uuid
from itertools import pairwise
from pathlib import Path

from services.runtime.settings import METRICS_PORTS, env_int, grpc_target, metrics_port, split_hostport

GRPC_SERVERS = (
    "contacts",
    "billing",
    "fulfillment",
    "screenpop",
    "knowledge",
    "insights",
    "channels",
    "outreach",
)
EDGE = "telephony.edge"
TIMEOUT = 3.0


def service_of_pid1() -> str | None:
    """The `services.<name>` module PID 1 runs, if any (also behind an init such as tini)."""
    try:
        argv = Path("/proc/1/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    args = [a.decode(errors="replace") for a in argv]
    for flag, module in pairwise(args):
        if flag == "-m" and module.startswith("services."):
            return module.removeprefix("services.")
    return None


def grpc_serving(port: int) -> bool:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from services.runtime import grpcio

    with grpcio.blocking_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def http_ok(port: int, path: str) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT) as reply:
        return reply.status == 200


def sip_answers(port: int) -> bool:
    """Send a SIP OPTIONS over UDP and accept any SIP response: the edge parses and answers."""
    call_id = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.bind(("127.0.0.1", 0))
        local_port = sock.getsockname()[1]
        request = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{call_id[:16]};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:healthcheck@127.0.0.1>;tag={call_id[:8]}\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {call_id}@healthcheck\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), ("127.0.0.1", port))
        data, _ = sock.recvfrom(65535)
    return data.startswith(b"SIP/2.0 ")


def check(service: str, edge_port: int) -> bool:
    if service in GRPC_SERVERS:
        from services.runtime import tls

        # The container holds only its own certificate, so the check presents that one.
        tls.set_identity(service)
        return grpc_serving(split_hostport(grpc_target(service))[1])
    if service == EDGE:
        return sip_answers(edge_port)
    if service in METRICS_PORTS:
        return http_ok(metrics_port(service), "/metrics")
    if service == "fulfillment.worker":
        return http_ok(env_int("CRS_FULFILLMENT_WORKER_METRICS_PORT", 9107), "/metrics")
    return True  # a one-off command (crs migrate, crs seed): nothing to probe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", help="the service to check (default: what PID 1 runs)")
    parser.add_argument("--edge-port", type=int, default=5060, help="the SIP edge's UDP port")
    args = parser.parse_args()
    service = args.service or service_of_pid1()
    if service is None:
        return 0
    try:
        healthy = check(service, args.edge_port)
    except Exception as exc:
        print(f"{service}: unhealthy: {exc}", file=sys.stderr)
        return 1
    if not healthy:
        print(f"{service}: not serving", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
