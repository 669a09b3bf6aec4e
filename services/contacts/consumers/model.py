"""Consumers and how to reach them, as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from services.contacts.interfaces import ContactSummary


@dataclass
class Phone:
    number: str  # E.164 once validated
    type: str = "mobile"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    id: str | None = None

    @property
    def current(self) -> bool:
        return self.valid_to is None


@dataclass
class Email:
    address: str
    type: str = "personal"


@dataclass
class PostalAddress:
    region_code: str
    address_lines: list[str] = field(default_factory=list)
    locality: str = ""
    administrative_area: str = ""
    postal_code: str = ""
    sorting_code: str = ""
    type: str = "home"


@dataclass
class Consumer:
    name: str
    language: str = "en"
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    addresses: list[PostalAddress] = field(default_factory=list)
    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_contact_at: datetime | None = None


class MatchKind(enum.IntEnum):
    """Strongest first: the order in which candidates are ranked."""

    EXACT = 1
    NATIONAL = 2
    SUFFIX = 3


@dataclass(frozen=True)
class NumberHit:
    """One stored number that matched a caller, as the store finds it."""

    consumer_id: str
    kind: MatchKind
    matched_number: str
    current: bool
    name: str
    language: str
    last_contact_at: datetime | None


@dataclass
class Candidate:
    consumer_id: str
    name: str
    language: str
    kind: MatchKind
    matched_number: str
    current: bool
    last_contact_at: datetime | None
    recent_contacts: list[ContactSummary] = field(default_factory=list)


class NoMatchReason(enum.Enum):
    WITHHELD = "withheld"
    UNPARSEABLE = "unparseable"
    NOT_FOUND = "not_found"


@dataclass
class MatchResult:
    number_e164: str | None
    withheld: bool
    candidates: list[Candidate]
    no_match_reason: NoMatchReason | None = None
    explanation: str = ""
