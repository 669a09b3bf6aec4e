"""Channels' Prometheus instruments: what became of inbound mail, and of replies."""

from __future__ import annotations

from prometheus_client import Counter

INBOUND = Counter(
    "crs_channels_inbound_total",
    "Inbound messages by outcome: new_case, threaded, or the reason it was refused",
    ["outcome"],
)
OUTBOUND = Counter("crs_channels_outbound_total", "Replies by outcome: sent or failed", ["outcome"])


def inbound(outcome) -> None:
    INBOUND.labels(outcome.rejected or ("new_case" if outcome.created else "threaded")).inc()
