"""`python -m services.billing` starts, serves, and on SIGTERM finishes the call in flight before it exits."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import grpc
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.runtime.grpcio import blocking_channel
from tests.support.held import table_held
from tests.support.processes import ServiceProcess, free_port, listening
from tests.support.wait import wait_for

UNKNOWN_CONSUMER = "00000000-0000-4000-8000-000000000001"


def test_the_billing_process_serves_and_drains_a_call_in_flight_on_sigterm(service_env, database_url):
    port = free_port()
    env = {**service_env, "CRS_BILLING_GRPC": f"127.0.0.1:{port}"}
    service = ServiceProcess("services.billing", env).start(wait_port=port)
    chan = blocking_channel(f"127.0.0.1:{port}")
    try:
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
        request = billing_pb2.GetAccountSummaryRequest(consumer_id=UNKNOWN_CONSUMER)
        with ThreadPoolExecutor(1) as pool, table_held(database_url, "billing.account") as held:
            in_flight = pool.submit(stub.GetAccountSummary, request, timeout=30)
            wait_for(held.waiting, timeout=15, what="the summary to reach the database and wait there")
            service.process.send_signal(signal.SIGTERM)
            wait_for(lambda: not listening(port), timeout=15, what="billing to stop taking new calls")
            assert not in_flight.done(), "the call in flight ended before its query could run"
        assert in_flight.result(timeout=30).has_account is False
        service.process.wait(timeout=15)  # the one SIGTERM above: a second would cut the exit short
    finally:
        chan.close()
        service.stop()
    assert "billing stopped" in service.output()
