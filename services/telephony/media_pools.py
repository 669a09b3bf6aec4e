"""RTP ports and SDP session ids, handed out to calls and taken back when they end.

pyVoIP never takes back an incoming call's ports, scans a list of every port it ever gave out (180 ms
per call once 1,000 have leaked), and draws session ids with `randint` from ids it never frees, which
loops forever once 100,000 calls have been taken. These pools replace both.
"""

from __future__ import annotations

import socket
import threading


class NoFreePort(RuntimeError):
    """Every RTP port in the range is held by a call or by another process."""


class RtpPortPool:
    """Even RTP ports in [low, high], each probed with a bind before it is handed out."""

    def __init__(self, low: int, high: int, host: str):
        self.low, self.high, self.host = low, high, host
        self._free = list(range(high - high % 2, low - 1, -2))  # even ports; RTCP would take the odd ones
        self._in_use: set[int] = set()
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            while self._free:
                port = self._free.pop()
                if self._bindable(port):
                    self._in_use.add(port)
                    return port
                # Another process holds it; try it again after everything else.
                self._free.insert(0, port)
                if all(not self._bindable(p) for p in self._free[-8:]):
                    break
            raise NoFreePort("no free RTP port")

    def give_back(self, port: int) -> None:
        with self._lock:
            if port in self._in_use:
                self._in_use.remove(port)
                self._free.append(port)

    def _bindable(self, port: int) -> bool:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.bind((self.host, port))
            return True
        except OSError:
            return False
        finally:
            probe.close()

    @property
    def in_use(self) -> int:
        return len(self._in_use)


class SessionIds:
    """SDP session ids, reused once freed."""

    def __init__(self) -> None:
        self._next = 1
        self._free: list[int] = []
        self._in_use: set[int] = set()
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            if self._free:
                value = self._free.pop()
            else:
                value, self._next = self._next, self._next + 1
            self._in_use.add(value)
            return value

    def give_back(self, value: int) -> None:
        with self._lock:
            if value in self._in_use:
                self._in_use.remove(value)
                self._free.append(value)

    @property
    def in_use(self) -> int:
        return len(self._in_use)
