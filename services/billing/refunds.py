"""Refunds from fulfillment, as credits on the ledger: consumed from `fulfillment.events`.

Fulfillment's workflows run in nameko, where no gRPC client works, so they ask for the credit with an
event (`refund_credit_requested`) instead of calling PostLedgerEntry. The event carries the idempotency
key, so a redelivered event replays the first entry and posts nothing twice; the entry's own
`ledger_entry_posted` event is fulfillment's confirmation.
"""

from __future__ import annotations

import logging

from crs.fulfillment.v1 import fulfillment_pb2

from services.billing import ledger
from services.billing.ledger import Entry, EntryKind, IdempotencyConflict, InvalidEntry, Store
from services.billing.metrics import ENTRIES_POSTED
from services.runtime.bus import Subscription
from services.runtime.events import Event

log = logging.getLogger(__name__)


def subscription(store: Store) -> Subscription:
    async def on_refund(event: Event) -> None:
        request = event.parse(fulfillment_pb2.RefundCreditRequested)
        entry = Entry(
            consumer_id=request.consumer_id,
            kind=EntryKind.CREDIT,
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            reference=request.reference,
        )
        try:
            posted = await ledger.post_entry(
                store=store, entry=entry, idempotency_key=request.idempotency_key
            )
        except (InvalidEntry, IdempotencyConflict) as exc:
            # A request that can never post: kept in the log for a person, not retried.
            log.error("refund %s cannot be credited: %s", request.fulfillment_id, exc)
            return
        ENTRIES_POSTED.labels("credit", "replayed" if posted.replayed else "posted").inc()

    return Subscription("fulfillment", "refund_credit_requested", on_refund)
