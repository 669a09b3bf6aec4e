"""The Billing gRPC service: protobuf in, ledger rules, protobuf out. No SQL here."""

from __future__ import annotations

import grpc
from crs.billing.v1 import billing_pb2, billing_pb2_grpc

from services.billing import convert, ledger
from services.billing.ledger import IdempotencyConflict, InvalidEntry, Store
from services.billing.metrics import ENTRIES_POSTED
from services.runtime.grpcio import Servicer

SERVICE_NAME = billing_pb2.DESCRIPTOR.services_by_name["Billing"].full_name


class BillingApi(billing_pb2_grpc.BillingServicer):
    def __init__(self, store: Store):
        self.store = store

    async def GetAccountSummary(self, request, context):
        try:
            summary = await ledger.account_summary(store=self.store, consumer_id=request.consumer_id)
        except InvalidEntry as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return convert.summary_to_pb(summary)

    async def ListLedgerEntries(self, request, context):
        try:
            entries = await ledger.list_entries(
                store=self.store, consumer_id=request.consumer_id, limit=request.limit
            )
        except InvalidEntry as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return billing_pb2.ListLedgerEntriesResponse(entries=[convert.entry_to_pb(e) for e in entries])

    async def PostLedgerEntry(self, request, context):
        try:
            if not request.HasField("entry"):
                raise InvalidEntry("entry is required")
            posted = await ledger.post_entry(
                store=self.store,
                entry=convert.entry_from_pb(request.entry),
                idempotency_key=request.idempotency_key,
            )
        except InvalidEntry as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except IdempotencyConflict as exc:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(exc))
        ENTRIES_POSTED.labels(posted.entry.kind.value, "replayed" if posted.replayed else "posted").inc()
        return convert.entry_to_pb(posted.entry)


def servicer(store: Store) -> Servicer:
    """The Billing servicer, ready for `services.runtime.grpcio.Server`."""
    return Servicer(BillingApi(store), billing_pb2_grpc.add_BillingServicer_to_server, SERVICE_NAME)
