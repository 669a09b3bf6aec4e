"""The life of an asyncio service process: logs, metrics, run until SIGTERM, then drain and exit."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import uvloop

from services.runtime import logs, tls
from services.runtime.metrics import start_metrics_server
from services.runtime.settings import SECRETS_BY_PROCESS, Common, metrics_port, refuse_development_secrets

log = logging.getLogger(__name__)


def run(service: str, main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` until it returns; SIGTERM or SIGINT sets `stop`, and `main` drains and returns."""
    logs.configure(service, Common.from_env().log_level)
    tls.set_identity(service)
    try:
        refuse_development_secrets(SECRETS_BY_PROCESS.get(service, ()))
    except SystemExit as refusal:
        log.critical("refusing to start: %s", refusal)
        raise
    start_metrics_server(metrics_port(service))

    async def supervise() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)
        log.info("%s stopped", service)

    # uvloop keeps its socket and reader bookkeeping in C. A pop makes dozens of small I/O waits across
    # gRPC, PostgreSQL and the broker; on two cores uvloop cut its p99 at 50 calls/s from 47 to 26 ms.
    uvloop.run(supervise())
