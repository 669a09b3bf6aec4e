"""gRPC plumbing: a server with health, reflection and metrics; clients that always carry a deadline."""

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

from services.runtime.metrics import GRPC_HANDLED

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


class _MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Times every unary call by method and status; wrapped handlers are built once per method."""

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        self._wrapped[method] = wrapped = self._timed(method, handler)
        return wrapped

    @staticmethod
    def _timed(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary
        ok = GRPC_HANDLED.labels(method, "OK")

        async def timed(request, context):
            started = time.perf_counter()
            try:
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


class Server:
    """A grpc.aio server that reports health and supports reflection; stop() drains it."""

    def __init__(self, servicers: Iterable[Servicer], bind: str):
        self.servicers = list(servicers)
        self.bind = bind
        self.health = HealthServicer()
        self.server = grpc.aio.server(interceptors=[_MetricsInterceptor()], options=CHANNEL_OPTIONS)
        self.port = 0

    async def start(self) -> int:
        for servicer in self.servicers:
            servicer.add_to_server(servicer.implementation, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [s.name for s in self.servicers]
        reflection.enable_server_reflection(
            [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server,
        )
        self.port = self.server.add_insecure_port(self.bind)
        if not self.port:
            raise RuntimeError(f"cannot listen on {self.bind}")
        await self.server.start()
        for name in ["", *names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC listening on port %d", self.port)
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        """Report NOT_SERVING so balancers stop sending, then let calls in flight finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


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


def channel(target: str, *, default_deadline: float = DEFAULT_DEADLINE) -> grpc.aio.Channel:
    """A long-lived channel to `target` on which no call can wait forever."""
    return grpc.aio.insecure_channel(
        target, options=CHANNEL_OPTIONS, interceptors=[_DeadlineInterceptor(default_deadline)]
    )


def blocking_channel(target: str) -> grpc.Channel:
    """A blocking channel for command-line tools; callers pass `timeout=` on each call."""
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
