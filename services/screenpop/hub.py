"""The sockets this replica holds, by the extensions they watch."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

from aiohttp import web
from prometheus_client import Gauge

log = logging.getLogger(__name__)

SOCKETS = Gauge("crs_screenpop_sockets", "Console and watch sockets held by this replica")


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def add(self, extension: str, socket: web.WebSocketResponse) -> None:
        self._sockets[extension].add(socket)
        SOCKETS.inc()

    def remove(self, extension: str, socket: web.WebSocketResponse) -> None:
        held = self._sockets.get(extension)
        if held and socket in held:
            held.discard(socket)
            SOCKETS.dec()
            if not held:
                del self._sockets[extension]

    def count(self, extension: str) -> int:
        return len(self._sockets.get(extension, ()))

    async def deliver(self, extension: str, message: dict[str, Any]) -> None:
        """Send `message` to every socket watching `extension`; a dead socket does not stop the rest."""
        sockets = list(self._sockets.get(extension, ()))
        if not sockets:
            return
        text = json.dumps(message, separators=(",", ":"))
        results = await asyncio.gather(
            *(s.send_str(text) for s in sockets if not s.closed), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                log.info("a socket went away while a pop was sent: %s", type(result).__name__)

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutting down")
