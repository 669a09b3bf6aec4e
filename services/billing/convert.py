"""Translation between the ledger's values and the protobuf messages of crs.billing.v1."""

from __future__ import annotations

from datetime import UTC

from crs.billing.v1 import billing_pb2, events_pb2
from crs.common.v1 import money_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.billing.ledger import CreditStatus, CreditTerms, Entry, EntryKind, InvalidEntry, Summary

KIND_TO_PB = {
    EntryKind.INVOICE: billing_pb2.ENTRY_KIND_INVOICE,
    EntryKind.PAYMENT: billing_pb2.ENTRY_KIND_PAYMENT,
    EntryKind.CREDIT: billing_pb2.ENTRY_KIND_CREDIT,
    EntryKind.REFUND: billing_pb2.ENTRY_KIND_REFUND,
}
KIND_FROM_PB = {v: k for k, v in KIND_TO_PB.items()}
STATUS_TO_PB = {
    CreditStatus.GOOD_STANDING: billing_pb2.CREDIT_STATUS_GOOD_STANDING,
    CreditStatus.ON_HOLD: billing_pb2.CREDIT_STATUS_ON_HOLD,
    CreditStatus.NONE: billing_pb2.CREDIT_STATUS_NONE,
}


def money(currency: str, amount_minor: int) -> money_pb2.Money:
    return money_pb2.Money(currency=currency, amount_minor=amount_minor)


def timestamp(when) -> Timestamp:
    stamp = Timestamp()
    if when is not None:
        stamp.FromDatetime(when)
    return stamp


def terms_to_pb(terms: CreditTerms, currency: str) -> billing_pb2.CreditTerms:
    return billing_pb2.CreditTerms(
        limit=money(currency, terms.limit_minor),
        payment_terms=terms.payment_terms,
        net_days=terms.net_days,
        status=STATUS_TO_PB[terms.status],
    )


def summary_to_pb(summary: Summary) -> billing_pb2.AccountSummary:
    return billing_pb2.AccountSummary(
        consumer_id=summary.consumer_id,
        has_account=summary.has_account,
        balance=money(summary.currency, summary.balance_minor),
        credit_terms=terms_to_pb(summary.terms, summary.currency),
        as_of=timestamp(summary.as_of),
    )


def entry_to_pb(entry: Entry) -> billing_pb2.LedgerEntry:
    return billing_pb2.LedgerEntry(
        id=entry.id,
        consumer_id=entry.consumer_id,
        kind=KIND_TO_PB[entry.kind],
        amount=money(entry.currency, entry.amount_minor),
        reference=entry.reference,
        posted_at=timestamp(entry.posted_at),
    )


def entry_from_pb(message: billing_pb2.LedgerEntry) -> Entry:
    """The entry a client asks to post; the server gives it its id."""
    kind = KIND_FROM_PB.get(message.kind)
    if kind is None:
        raise InvalidEntry("kind must be one of INVOICE, PAYMENT, CREDIT or REFUND")
    posted_at = message.posted_at.ToDatetime(tzinfo=UTC) if message.HasField("posted_at") else None
    return Entry(
        consumer_id=message.consumer_id,
        kind=kind,
        amount_minor=message.amount.amount_minor,
        currency=message.amount.currency,
        reference=message.reference,
        posted_at=posted_at,
    )


def entry_posted_event(entry: Entry, balance_minor: int, currency: str) -> events_pb2.LedgerEntryPosted:
    return events_pb2.LedgerEntryPosted(entry=entry_to_pb(entry), balance=money(currency, balance_minor))
