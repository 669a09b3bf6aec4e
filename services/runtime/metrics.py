"""Prometheus metrics shared by every process: gRPC, bus and outbox instruments, and the endpoint."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

GRPC_HANDLED = Histogram(
    "crs_grpc_server_handling_seconds",
    "Time to handle a gRPC call, by method and status code",
    ["method", "code"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "crs_events_published_total", "Events confirmed by the broker", ["exchange", "type"]
)
EVENTS_CONSUMED = Counter(
    "crs_events_consumed_total", "Events handled by consumers, by outcome", ["queue", "outcome"]
)
OUTBOX_PENDING = Gauge("crs_outbox_pending", "Events written but not yet confirmed by the broker", ["schema"])


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> None:
    """Serve /metrics on `port` from a daemon thread; port 0 turns it off."""
    if port:
        start_http_server(port, addr=addr)
        log.info("metrics on :%d/metrics", port)
