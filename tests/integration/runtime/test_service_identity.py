"""Services authenticate each other: mutual TLS, a principal only from the console, health for probes."""

from __future__ import annotations

import socket
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.runtime import grpcio, permissions, principal, tls
from tests.support.wait import wait_for

# A method of the permission table (pops.watch: agents and supervisors), served here by a stand-in.
ECHO = "/crs.screenpop.v1.Screenpop/GetCurrentPop"
SUPERVISOR = principal.Principal("sam", "supervisor")


def echo_servicer() -> grpcio.Servicer:
    """A method that answers with the person the call acts for, as the service believes it."""

    async def who(request: bytes, context) -> bytes:
        person = grpcio.authenticated_principal(context)
        return f"{person.username}/{person.role}".encode() if person else b"nobody"

    handler = grpc.method_handlers_generic_handler(
        "crs.screenpop.v1.Screenpop", {"GetCurrentPop": grpc.unary_unary_rpc_method_handler(who)}
    )
    return grpcio.Servicer(
        None, lambda _, server: server.add_generic_rpc_handlers((handler,)), "crs.screenpop.v1.Screenpop"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def server():
    running = grpcio.Server([echo_servicer()], "127.0.0.1:0", health=f"127.0.0.1:{free_port()}")
    await running.start()
    yield running
    await running.stop(grace=0)


def credentials_of(name: str, directory=None) -> grpc.ChannelCredentials:
    own = tls.load(name) if directory is None else _load_from(directory, name)
    return grpc.ssl_channel_credentials(own.ca, own.key, own.certificate)


def _load_from(directory, name) -> tls.Identity:
    ca = (tls.tls_dir() / "ca.crt").read_bytes()  # trusts the real server, presents a stranger's certificate
    return tls.Identity(
        name, ca, (directory / f"{name}.crt").read_bytes(), (directory / f"{name}.key").read_bytes()
    )


async def who(channel: grpc.aio.Channel, metadata=()) -> bytes:
    return await channel.unary_unary(ECHO)(b"", metadata=metadata, timeout=5)


async def test_a_caller_with_a_certificate_from_the_ca_is_served(server):
    async with grpcio.channel(f"127.0.0.1:{server.port}") as channel:
        assert await who(channel) == b"nobody"


async def test_a_caller_without_a_certificate_is_refused(server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as plaintext:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await who(plaintext)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    ca_only = grpc.ssl_channel_credentials(tls.load().ca)
    async with grpc.aio.secure_channel(f"127.0.0.1:{server.port}", ca_only) as no_client_certificate:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await who(no_client_certificate)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_is_refused(server, tmp_path):
    stranger = tls.ensure_development_pki(tmp_path / "other-ca", ["console"])
    target = f"127.0.0.1:{server.port}"
    async with grpc.aio.secure_channel(target, credentials_of("console", stranger)) as forged:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await who(forged, SUPERVISOR.metadata())
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_only_the_console_may_say_whom_a_call_acts_for(server):
    target = f"127.0.0.1:{server.port}"
    async with grpc.aio.secure_channel(target, credentials_of("console")) as console:
        assert await who(console, SUPERVISOR.metadata()) == b"sam/supervisor"
    for service in ("screenpop", "cli"):
        async with grpc.aio.secure_channel(target, credentials_of(service)) as other:
            assert await who(other) == b"nobody"
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await who(other, SUPERVISOR.metadata())
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "may not act for a person" in refused.value.details()


async def test_a_service_may_act_as_itself_only_for_the_methods_given_to_it(server, monkeypatch):
    target = f"127.0.0.1:{server.port}"
    itself = principal.Principal("channels", "service").metadata()
    async with grpc.aio.secure_channel(target, credentials_of("channels")) as channels:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await who(channels, itself)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert refused.value.details() == f"the service channels may not call {ECHO}"
        monkeypatch.setitem(permissions.SERVICE_METHODS, "channels", frozenset({ECHO}))
        assert await who(channels, itself) == b"nobody"  # served, and still no person's call
        for claimed in (principal.Principal("contacts", "service"), principal.Principal("ada", "agent")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await who(channels, claimed.metadata())
            assert "may not act for a person" in refused.value.details()


async def test_a_persons_call_needs_their_roles_permission_for_the_method(server):
    target = f"127.0.0.1:{server.port}"
    async with grpc.aio.secure_channel(target, credentials_of("console")) as console:
        assert await who(console, principal.Principal("ada", "agent").metadata()) == b"ada/agent"
        for role in ("analyst", "admin"):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await who(console, principal.Principal("x", role).metadata())
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert f"a {role} does not have the permission pops.watch" in refused.value.details()


async def test_probes_reach_health_in_plaintext_and_nothing_else(server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.health_port}") as probe:
        reply = await health_pb2_grpc.HealthStub(probe).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await who(probe, SUPERVISOR.metadata())
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def reflection_answers(port: int) -> bool:
    async with grpcio.channel(f"127.0.0.1:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        try:
            async for _ in stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            ):
                return True
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNIMPLEMENTED
            return False
    return False


async def test_reflection_is_off_unless_a_development_setting_turns_it_on(server, monkeypatch):
    assert not await reflection_answers(server.port)
    monkeypatch.setenv("CRS_GRPC_REFLECTION", "on")
    with_reflection = grpcio.Server([echo_servicer()], "127.0.0.1:0")
    await with_reflection.start()
    try:
        assert await reflection_answers(with_reflection.port)
    finally:
        await with_reflection.stop(grace=0)


def test_a_service_process_refuses_a_caller_without_a_certificate(service_env):
    from crs.billing.v1 import billing_pb2, billing_pb2_grpc

    port, health_port = free_port(), free_port()
    env = {**service_env, "CRS_BILLING_GRPC": f"127.0.0.1:{port}", "CRS_GRPC_HEALTH_PORT": str(health_port)}
    proc = subprocess.Popen([sys.executable, "-m", "services.billing"], env=env, stdin=subprocess.DEVNULL)
    request = billing_pb2.GetAccountSummaryRequest(consumer_id="00000000-0000-4000-8000-000000000001")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{health_port}") as probe:

            def serving() -> bool:
                assert proc.poll() is None, "billing exited"
                try:
                    reply = health_pb2_grpc.HealthStub(probe).Check(
                        health_pb2.HealthCheckRequest(), timeout=0.5
                    )
                except grpc.RpcError:
                    return False
                return reply.status == health_pb2.HealthCheckResponse.SERVING

            wait_for(serving, timeout=30, what="billing's plaintext health port")
            with pytest.raises(grpc.RpcError) as refused:
                billing_pb2_grpc.BillingStub(probe).GetAccountSummary(request, timeout=2)
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with grpc.insecure_channel(f"127.0.0.1:{port}") as plaintext:
            with pytest.raises(grpc.RpcError) as refused:
                billing_pb2_grpc.BillingStub(plaintext).GetAccountSummary(request, timeout=2)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        with grpcio.blocking_channel(f"127.0.0.1:{port}") as authenticated:
            assert (
                billing_pb2_grpc.BillingStub(authenticated).GetAccountSummary(request, timeout=5).has_account
                is False
            )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
