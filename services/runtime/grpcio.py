"""gRPC plumbing: mutual-TLS servers with health and metrics; clients that always carry a deadline.

Every server demands a client certificate signed by the deployment's CA (services/runtime/tls.py), and
every channel presents this process's own. Two exceptions, both narrow:
- grpc.health.v1 is also served in plaintext on CRS_GRPC_HEALTH_PORT when it is set, on a server that
  has nothing else on it, because Kubernetes' gRPC probes present no certificate;
- reflection is off unless CRS_GRPC_REFLECTION=on, a development setting.

The principal in a call's metadata (services/runtime/principal.py) is believed only when the peer's
certificate names one of CRS_PRINCIPAL_ISSUERS (the console); from any other peer such a call is refused,
except a service naming itself (role "service", its certificate's name), which may call the methods that
permissions.SERVICE_METHODS gives it. A believed person's role must hold the method's permission
(services/runtime/permissions.py).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from services.runtime import permissions, principal, tls
from services.runtime.metrics import GRPC_HANDLED
from services.runtime.settings import env

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 2.0
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
]


@dataclass(frozen=True)
class Servicer:
    """A servicer, the generated function that adds it to a server, and its full service name."""

    implementation: Any
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    name: str


def principal_issuers() -> frozenset[str]:
    """The identities whose calls may carry a person's principal."""
    return frozenset(
        name.strip() for name in env("CRS_PRINCIPAL_ISSUERS", "console").split(",") if name.strip()
    )


def authenticated_principal(context: grpc.aio.ServicerContext) -> principal.Principal | None:
    """The person a call acts for, when an issuer's certificate vouches for it; else None."""
    if tls.peer_identity(context) not in principal_issuers():
        return None
    return principal.from_metadata(context.invocation_metadata())


def _permission_refusal(method: str, metadata) -> tuple[grpc.StatusCode, str] | None:
    """Why the person a call acts for may not call `method`, or None when they may."""
    if method.startswith(permissions.OPEN_METHODS):
        return None
    person = principal.from_metadata(metadata)
    if person is None:
        return grpc.StatusCode.UNAUTHENTICATED, "the call's principal is malformed: who is acting?"
    if person.role == "service":
        if method in permissions.SERVICE_METHODS.get(person.username, ()):
            return None
        return grpc.StatusCode.PERMISSION_DENIED, f"the service {person.username} may not call {method}"
    needed = permissions.method_permission(method)
    if needed is None:
        return grpc.StatusCode.PERMISSION_DENIED, f"{method} is not in the permission table"
    if not permissions.allowed(person.role, needed):
        holders = ", ".join(sorted(permissions.PERMISSIONS.get(needed, ()))) or "nobody"
        return (
            grpc.StatusCode.PERMISSION_DENIED,
            f"a {person.role} does not have the permission {needed} (held by: {holders})",
        )
    return None


def _acts_for_itself(peer: str | None, metadata) -> bool:
    """A service may name itself as the principal (role "service"), whatever the issuers: its certificate
    says who it is, and the methods it may call so are in permissions.SERVICE_METHODS."""
    person = principal.from_metadata(metadata)
    return peer is not None and person is not None and person.role == "service" and person.username == peer


def _claims_a_principal(metadata) -> bool:
    return any(key in (principal.USER_KEY, principal.ROLE_KEY) for key, _ in metadata or ())


async def _refuse_unless_allowed(method: str, context, issuers: frozenset[str]) -> None:
    """Abort the call when it claims a principal its peer may not assert, or one without the permission."""
    if not _claims_a_principal(context.invocation_metadata()):
        return
    peer = tls.peer_identity(context)
    if peer not in issuers and not _acts_for_itself(peer, context.invocation_metadata()):
        log.warning(
            "refused a principal from a peer that may not assert one",
            extra={"fields": {"method": method, "peer": peer or "none"}},
        )
        await context.abort(
            grpc.StatusCode.PERMISSION_DENIED, f"{peer or 'this caller'} may not act for a person"
        )
    refusal = _permission_refusal(method, context.invocation_metadata())
    if refusal:
        log.warning("refused: %s", refusal[1], extra={"fields": {"method": method}})
        await context.abort(*refusal)


class _MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Times every unary call by method and status, and refuses a principal from a peer that may not
    assert one; wrapped handlers are built once per method."""

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}
        self._issuers = principal_issuers()

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is not None and handler.stream_stream is not None:
            self._wrapped[method] = wrapped = self._checked_stream(method, handler, self._issuers)
            return wrapped
        if handler is None or handler.unary_unary is None:
            return handler
        self._wrapped[method] = wrapped = self._timed(method, handler, self._issuers)
        return wrapped

    @staticmethod
    def _checked_stream(
        method: str, handler: grpc.RpcMethodHandler, issuers: frozenset[str]
    ) -> grpc.RpcMethodHandler:
        """A long-lived stream is not timed, but its principal is checked like a unary call's."""
        inner = handler.stream_stream

        async def checked(requests, context):
            await _refuse_unless_allowed(method, context, issuers)
            async for response in inner(requests, context):
                yield response

        return grpc.stream_stream_rpc_method_handler(
            checked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    @staticmethod
    def _timed(method: str, handler: grpc.RpcMethodHandler, issuers: frozenset[str]) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary
        ok = GRPC_HANDLED.labels(method, "OK")

        async def timed(request, context):
            started = time.perf_counter()
            try:
                await _refuse_unless_allowed(method, context, issuers)
                response = await inner(request, context)
            except BaseException:
                code = context.code()
                GRPC_HANDLED.labels(method, code.name if code else "UNKNOWN").observe(
                    time.perf_counter() - started
                )
                raise
            code = context.code()
            (
                ok if code is None or code == grpc.StatusCode.OK else GRPC_HANDLED.labels(method, code.name)
            ).observe(time.perf_counter() - started)
            return response

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def server_credentials() -> grpc.ServerCredentials:
    own = tls.load()
    return grpc.ssl_server_credentials(
        [(own.key, own.certificate)], root_certificates=own.ca, require_client_auth=True
    )


def channel_credentials() -> grpc.ChannelCredentials:
    own = tls.load()
    return grpc.ssl_channel_credentials(
        root_certificates=own.ca, private_key=own.key, certificate_chain=own.certificate
    )


def reflection_enabled() -> bool:
    return env("CRS_GRPC_REFLECTION", "off").lower() in ("on", "1", "true")


def health_bind() -> str | None:
    """Where the plaintext health-only server listens, or None (CRS_GRPC_HEALTH_PORT unset)."""
    port = env("CRS_GRPC_HEALTH_PORT", "")
    if not port:
        return None
    return f"{env('CRS_GRPC_BIND_HOST', '127.0.0.1')}:{port}"


class Server:
    """A mutual-TLS grpc.aio server that reports health; stop() drains it.

    `health_port` is the plaintext health-only listener's port when one was asked for (else 0).
    """

    def __init__(self, servicers: Iterable[Servicer], bind: str, *, health: str | None = None):
        self.servicers = list(servicers)
        self.bind = bind
        self.health_bind = health if health is not None else health_bind()
        self.health = HealthServicer()
        self.server = grpc.aio.server(interceptors=[_MetricsInterceptor()], options=CHANNEL_OPTIONS)
        self.health_server: grpc.aio.Server | None = None
        self.port = 0
        self.health_port = 0

    async def start(self) -> int:
        for servicer in self.servicers:
            servicer.add_to_server(servicer.implementation, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [s.name for s in self.servicers]
        if reflection_enabled():
            reflection.enable_server_reflection(
                [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
                self.server,
            )
        self.port = self.server.add_secure_port(self.bind, server_credentials())
        if not self.port:
            raise RuntimeError(f"cannot listen on {self.bind}")
        if self.health_bind:
            self.health_server = grpc.aio.server(options=CHANNEL_OPTIONS)
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            self.health_port = self.health_server.add_insecure_port(self.health_bind)
            if not self.health_port:
                raise RuntimeError(f"cannot listen on {self.health_bind}")
            await self.health_server.start()
        await self.server.start()
        for name in ["", *names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC listening on port %d (mutual TLS as %s)", self.port, tls.identity())
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        """Report NOT_SERVING so balancers stop sending, then let calls in flight finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)


class _DeadlineInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Gives every call a deadline: the caller's own, or the channel's default."""

    def __init__(self, default: float):
        self.default = default

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        if client_call_details.timeout is None:
            client_call_details = grpc.aio.ClientCallDetails(
                method=client_call_details.method,
                timeout=self.default,
                metadata=client_call_details.metadata,
                credentials=client_call_details.credentials,
                wait_for_ready=client_call_details.wait_for_ready,
            )
        return await continuation(client_call_details, request)


def errors_to_status(statuses: dict[type[Exception], grpc.StatusCode]):
    """A decorator for servicer methods: each domain error named in `statuses` ends the call with its code."""
    caught = tuple(statuses)

    def decorate(method):
        @functools.wraps(method)
        async def wrapper(self, request, context: grpc.aio.ServicerContext):
            try:
                return await method(self, request, context)
            except caught as exc:
                code = next(code for kind, code in statuses.items() if isinstance(exc, kind))
                await context.abort(code, str(exc))

        return wrapper

    return decorate


# An export answer carries the consumer's recordings and letters: more than gRPC's default 4 MiB.
LARGE_MESSAGES = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]


def channel(
    target: str,
    *,
    default_deadline: float = DEFAULT_DEADLINE,
    tls_name: str | None = None,
    large_messages: bool = False,
) -> grpc.aio.Channel:
    """A long-lived mutual-TLS channel to `target` on which no call can wait forever.

    `tls_name`: the identity the server's certificate must name, when `target` is an address that its
    certificate does not (one replica of a service, dialled at its node's address)."""
    options = CHANNEL_OPTIONS + ([("grpc.ssl_target_name_override", tls_name)] if tls_name else [])
    return grpc.aio.secure_channel(
        target,
        channel_credentials(),
        options=options + (LARGE_MESSAGES if large_messages else []),
        interceptors=[_DeadlineInterceptor(default_deadline)],
    )


def blocking_channel(target: str, *, large_messages: bool = False) -> grpc.Channel:
    """A blocking mutual-TLS channel for command-line tools; callers pass `timeout=` on each call."""
    options = CHANNEL_OPTIONS + (LARGE_MESSAGES if large_messages else [])
    return grpc.secure_channel(target, channel_credentials(), options=options)
