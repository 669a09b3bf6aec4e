"""Billing's own Prometheus instruments (the gRPC and outbox ones come from the runtime)."""

from prometheus_client import Counter

ENTRIES_POSTED = Counter(
    "crs_billing_ledger_entries_total", "PostLedgerEntry outcomes by entry kind", ["kind", "outcome"]
)
