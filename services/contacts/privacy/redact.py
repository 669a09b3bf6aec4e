"""Finding a consumer's personal details in free text and replacing them.

A verbatim says "my name is Ada Quist, call me on 0415 555 0101": the consumer's name, numbers and emails
are replaced by a marker, and so is anything else that looks like an email address or a phone number,
because a person's details in text are not always their own spelling of the record. A name is matched
whole and by each part of three letters or more, so "Mrs Quist" loses its surname too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARK = "[redacted]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Seven digits or more, with the separators people write between them.
_PHONE = re.compile(r"(?:\+|\()?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_MIN_PHONE_DIGITS = 7
_MIN_NAME_PART = 3


@dataclass(frozen=True)
class Terms:
    """What names the consumer: their name(s), email addresses and phone numbers (any spelling)."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phone_digits: tuple[str, ...] = field(default=())

    @classmethod
    def of(
        cls, *, names: Iterable[str] = (), emails: Iterable[str] = (), phones: Iterable[str] = ()
    ) -> Terms:
        # The last ten digits: the national number, however the country code was written (or not).
        digits = {re.sub(r"\D", "", p)[-10:] for p in phones}
        return cls(
            names=tuple(sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)),
            emails=tuple(sorted({e.strip().lower() for e in emails if e and e.strip()})),
            phone_digits=tuple(sorted(d for d in digits if len(d) >= 6)),
        )

    def _name_pattern(self) -> re.Pattern[str] | None:
        parts = set(self.names)
        for name in self.names:
            parts |= {p for p in re.split(r"[\s,.'-]+", name) if len(p) >= _MIN_NAME_PART}
        if not parts:
            return None
        alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _phone_or_keep(match: re.Match[str]) -> str:
    """A phone number's marker; a date (2026-03-01) or a short run of figures stays."""
    found = match.group(0)
    if _DATE.fullmatch(found.strip()) or len(re.sub(r"\D", "", found)) < _MIN_PHONE_DIGITS:
        return found
    return MARK


def redact(text: str, terms: Terms) -> str:
    """`text` with the consumer's details, and anything shaped like an email or phone number, replaced."""
    if not text:
        return text
    text = _EMAIL.sub(MARK, text)
    text = _PHONE.sub(_phone_or_keep, text)
    pattern = terms._name_pattern()
    if pattern is not None:
        text = pattern.sub(MARK, text)
    for email in terms.emails:
        text = re.sub(re.escape(email), MARK, text, flags=re.IGNORECASE)
    return text


# Case fields whose values are the consumer's own details: on the timeline, their values go entirely.
PERSONAL_FIELDS = frozenset(
    {"reporter_name", "reporter_email", "reporter_phone", "caller_number", "consumer_id"}
)


def scrub_changes(changes: Any, terms: Terms) -> Any:
    """A timeline entry's before-and-after values with personal fields removed and free text redacted."""
    if isinstance(changes, Mapping):
        return {
            key: (MARK if key in PERSONAL_FIELDS and value not in ("", None) else scrub_changes(value, terms))
            for key, value in changes.items()
        }
    if isinstance(changes, list):
        return [scrub_changes(item, terms) for item in changes]
    if isinstance(changes, str):
        return redact(changes, terms)
    return changes


def mentions(text: str, terms: Terms) -> bool:
    """Whether `text` holds one of the consumer's own details, spelt as the record spells it."""
    folded = text.lower()
    digits = re.sub(r"\D", "", text)
    return (
        any(n.lower() in folded for n in terms.names)
        or any(e in folded for e in terms.emails)
        or any(d in digits for d in terms.phone_digits)
    )
