"""A contact as insights keeps it: what the early warning and CPMU need from casework's case events.

Built from the case in the event (crs.contacts.v1.Case in its JSON mapping), never from casework's tables.
The date that counts is when the consumer's contact was received (`occurred_at`, which a back-dated letter
carries), falling back on when the case was created.

Of the case it keeps nothing that names or describes a person: no consumer id (only whether one is on file),
no verbatim, reporter or notes. `to_record` is the whole of what insights stores of a case, in its read
model and its event log alike, and `from_record` reads it back for a rebuild.

Weight: a contact through the public web form without a verified consumer (no consumer on file) counts
0.25. Such submissions are where spam and repeated submissions come from, yet a real surge also shows up
there, so they are not dropped: four of them weigh what one verified complaint does, and an alert also needs
a weighted count of at least MIN_WEIGHTED_COUNT (signals.py), so three spam submissions (0.75) can never
raise one, nor can they tip one verified complaint (1.75) over it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime

UNVERIFIED_WEB_WEIGHT = 0.25


class InvalidFact(ValueError):
    """An event whose case lacks what insights needs (an id, a received date)."""


@dataclass(frozen=True)
class ContactFact:
    contact_id: str
    sku: str
    lot_code: str
    region: str
    issue_code: str
    channel: str
    received_on: date
    consumer_on_file: bool

    @property
    def weight(self) -> float:
        return 1.0 if self.consumer_on_file or self.channel != "web" else UNVERIFIED_WEB_WEIGHT


def region_of(purchase_location: str) -> str:
    """ "Springfield, IL" -> "IL": the capture form asks for "city, region"; one word is the region."""
    return purchase_location.rsplit(",", 1)[-1].strip().upper()


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def from_case(case: dict) -> ContactFact:
    contact_id = case.get("id") or ""
    received = case.get("occurred_at") or case.get("created_at") or ""
    if not contact_id or not received:
        raise InvalidFact("the case carries no id or no received date")
    try:
        received_on = _day(received)
    except ValueError as exc:
        raise InvalidFact(f"the case's received date {received!r} is not a time") from exc
    product = case.get("product") or {}
    channel = case.get("channel") or ""
    return ContactFact(
        contact_id=contact_id,
        sku=(product.get("sku") or "").strip(),
        lot_code=(product.get("lot_code") or "").strip(),
        region=region_of(product.get("purchase_location") or ""),
        issue_code=case.get("issue_code") or "",
        channel=channel,
        received_on=received_on,
        consumer_on_file=bool(case.get("consumer_id")),
    )


def to_record(fact: ContactFact, version: int) -> dict:
    """The contact as insights logs it: JSON-ready, and nothing in it about the person."""
    return {**asdict(fact), "received_on": fact.received_on.isoformat(), "version": version}


def from_record(record: dict) -> tuple[ContactFact, int]:
    try:
        fields = {f.name: record[f.name] for f in dataclass_fields(ContactFact)}
        fields["received_on"] = date.fromisoformat(fields["received_on"])
        return ContactFact(**fields), int(record["version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFact(f"the logged contact is incomplete or malformed: {exc}") from exc


def issue_levels(code: str) -> list[str]:
    """Every level of the issue tree above and at `code`: a.b.c -> a, a.b, a.b.c."""
    parts = [p for p in code.split(".") if p]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
