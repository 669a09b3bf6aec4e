"""The values a case is made of (its product, its reporter) and what its changes record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

SYSTEM = "system"  # the actor of what no person did: escalation by code, SLA breaches, fulfillment's moves


@dataclass
class Product:
    sku: str = ""
    upc: str = ""
    name: str = ""
    lot_code: str = ""
    best_by: date | None = None
    produced_on: date | None = None
    purchase_store: str = ""
    purchase_location: str = ""
    purchased_on: date | None = None


@dataclass
class Reporter:
    """For a contact with no consumer record: who wrote or called, as they gave it."""

    name: str = ""
    email: str = ""
    phone: str = ""


# The timeline names a product's and a reporter's fields as they are stored, one level deep.
PRODUCT_NAMES = {
    "sku": "product_sku",
    "upc": "product_upc",
    "name": "product_name",
    "lot_code": "lot_code",
    "best_by": "best_by",
    "produced_on": "produced_on",
    "purchase_store": "purchase_store",
    "purchase_location": "purchase_location",
    "purchased_on": "purchased_on",
}
REPORTER_NAMES = {"name": "reporter_name", "email": "reporter_email", "phone": "reporter_phone"}


@dataclass(frozen=True)
class Entry:
    """One line of the case's timeline."""

    kind: str  # created, updated, moved, status, escalated, assigned, action, call_linked, sla_breached
    actor: str
    changes: dict
    note: str = ""


@dataclass(frozen=True)
class Happened:
    """Something the bus hears about, by its routing key; the notifier adds the case as it was stored."""

    type: str  # contact_created, contact_updated, contact_escalated, contact_resolved, sla_breached
    actor: str = ""
    reason: str = ""
    changed_fields: tuple[str, ...] = ()
    breach: str = ""
    due_at: datetime | None = None


def json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


# Kept with the case but not news on its timeline: the status a waiting case goes back to is in the note.
_UNRECORDED = ("version", "updated_at", "status_before_fulfillment")


def changes_between(before: dict, after: dict) -> dict:
    """Before and after of every field that changed, as JSON values."""
    return {
        name: {"before": json_value(before[name]), "after": json_value(value)}
        for name, value in after.items()
        if before.get(name) != value and name not in _UNRECORDED
    }
