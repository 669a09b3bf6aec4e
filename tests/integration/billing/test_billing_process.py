"""`python -m services.billing` starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import grpc
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.runtime.grpcio import blocking_channel
from tests.support.wait import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_billing_process_serves_and_drains_on_sigterm(service_env):
    port = free_port()
    env = {**service_env, "CRS_BILLING_GRPC": f"127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.billing"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        chan = blocking_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(chan)

        def serving():
            try:
                reply = health.Check(
                    health_pb2.HealthCheckRequest(service="crs.billing.v1.Billing"), timeout=0.5
                )
            except grpc.RpcError:
                return False
            return reply.status == health_pb2.HealthCheckResponse.SERVING

        wait_for(serving, timeout=20, what="billing to report SERVING")
        stub = billing_pb2_grpc.BillingStub(chan)
        summary = stub.GetAccountSummary(
            billing_pb2.GetAccountSummaryRequest(consumer_id="00000000-0000-4000-8000-000000000001"),
            timeout=2,
        )
        assert summary.has_account is False
        chan.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read().decode()
    assert "billing stopped" in output
