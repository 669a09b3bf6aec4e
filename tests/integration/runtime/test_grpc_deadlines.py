"""The client helper never lets a call wait forever, even when the caller forgot a deadline."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.runtime import grpcio
from services.runtime.grpcio import channel


class SilentHealth(health_pb2_grpc.HealthServicer):
    async def Check(self, request, context):
        await asyncio.Event().wait()  # a peer that accepted the call and never answers


async def test_a_call_without_a_deadline_gets_the_channels_default():
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(SilentHealth(), server)
    port = server.add_secure_port("127.0.0.1:0", grpcio.server_credentials())
    await server.start()
    try:
        async with channel(f"127.0.0.1:{port}", default_deadline=0.3) as chan:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest())
            assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - started < 2
    finally:
        await server.stop(0)
