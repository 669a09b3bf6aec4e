"""Who is asking, and may they ask again yet: the client address behind trusted proxies, and a token bucket.

Plain Python. The buckets themselves live in the database (web_form_store.py), so that every replica of
channels spends from the same bucket for one address; this module only does the arithmetic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BadProxySetting(ValueError):
    """A trusted proxy that is not an address or a CIDR: the service refuses to start rather than guess."""


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies (load balancers, ingress controllers) whose X-Forwarded-For is believed, as networks."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """`10.0.0.0/8, 192.0.2.7, fd00::/8`: comma-separated addresses or CIDRs."""
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise BadProxySetting(f"trusted proxy {item!r}: not an address or a CIDR") from None
        return cls(tuple(networks))

    def trusts(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded_for: Iterable[str], proxies: TrustedProxies) -> str:
    """The address a request came from.

    The peer, unless it is a trusted proxy: then the X-Forwarded-For hops are read from the right (each
    proxy appends the address it saw), skipping trusted proxies, and the first hop not trusted is the
    client. Hops left of it were written by the client itself and are never believed. A hop that is not
    an address ends the walk at the last address known good.
    """
    seen = _address(peer or "")
    if seen is None:
        return "unknown"
    if not proxies.trusts(str(seen)):
        return str(seen)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        seen = address
        if not proxies.trusts(str(address)):
            break
    return str(seen)


@dataclass(frozen=True)
class Budget:
    """`burst` requests at once, then `per_minute` more each minute."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: datetime


def spend(budget: Budget, bucket: Bucket | None, now: datetime) -> tuple[Bucket, float]:
    """The bucket after one request at `now`, and 0 when it may go, otherwise the seconds to wait."""
    if bucket is None:
        tokens = float(budget.burst)
    else:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        tokens = min(float(budget.burst), bucket.tokens + elapsed * budget.per_second)
    if tokens < 1:
        return Bucket(tokens, now), (1 - tokens) / budget.per_second
    return Bucket(tokens - 1, now), 0.0


def refill_seconds(budget: Budget) -> float:
    """After this long untouched, any bucket is full again, and forgetting it changes nothing."""
    return budget.burst / budget.per_second
