"""A verbatim as insights keeps it: the consumer's words with whatever could name or reach a person taken
out, so that an analyst reading a theme reads what was said about the product, not who said it.

Redacted on receipt, from the case in the event: the reporter's own name, email and phone as the case
spells them, and anything shaped like an email address, a phone number, a street address or a card or
account number. Lot codes ("lot OAT-12", "L2419A") and best-before dates are kept: they are what quality
assurance reads a verbatim for. Each kind has its own marker, so a reader knows what was there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME, EMAIL, PHONE, ADDRESS, NUMBER = "[name]", "[email]", "[phone]", "[address]", "[number]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A card or account number: 12 to 19 digits, grouped or not (IBANs start with two letters).
_ACCOUNT = re.compile(r"\b(?:[A-Z]{2}\d{2}[ ]?)?(?:\d[ -]?){11,18}\d\b")
_PHONE = re.compile(r"(?<![\w-])(?:\+|\()?\d[\d ().-]{5,}\d(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|crescent|"
    "rue|avenue|allée|chemin|boulevard|calle|avenida|strasse|straße|weg|platz"
)
# "12 Baker Street", "221B Baker St", and the French or Spanish order: "12 rue de la Paix", "calle Mayor 5".
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[\w'-]+\s+){{0,3}}?(?:{_STREET_WORDS})\b(?:\s+[\w'-]+){{0,3}}"
    rf"|\b(?:{_STREET_WORDS})\s+(?:[\w'-]+\s+){{0,3}}\d{{1,5}}\b",
    re.IGNORECASE,
)
# "my name is Ada", "je m'appelle Ada", "me llamo Ada": the next one or two capitalised words. ("I am"
# and "je suis" are left out: "I am Very upset" would lose a word that is not a name.)
_INTRODUCED = re.compile(
    r"(?i:my name is|je m'appelle|me llamo|mi nombre es|ich heiße)"
    r"\s+((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)?)"
)
_SIGNED = re.compile(
    r"((?:regards|thanks|thank you|sincerely|cordialement|merci|saludos|gracias),?\s*\n?\s*)"
    r"([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)\s*$",
    re.IGNORECASE,
)
_MIN_PHONE_DIGITS = 7
_MIN_NAME_PART = 3


@dataclass(frozen=True)
class Reporter:
    """The person's details as the case carries them."""

    name: str = ""
    email: str = ""
    phone: str = ""


def _phone_or_keep(match: re.Match[str]) -> str:
    found = match.group(0)
    if _DATE.fullmatch(found.strip()) or len(re.sub(r"\D", "", found)) < _MIN_PHONE_DIGITS:
        return found
    return PHONE


def _their_name(text: str, name: str) -> str:
    parts = {name.strip()} | {p for p in re.split(r"[\s,.'-]+", name) if len(p) >= _MIN_NAME_PART}
    parts.discard("")
    if not parts:
        return text
    alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
    return re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", NAME, text, flags=re.IGNORECASE)


def redact(text: str, reporter: Reporter = Reporter()) -> str:
    """`text` without the reporter's details or anything shaped like a person's contact or account."""
    if not text:
        return ""
    text = _EMAIL.sub(EMAIL, text)
    text = _ACCOUNT.sub(lambda m: m.group(0) if _DATE.fullmatch(m.group(0)) else NUMBER, text)
    text = _PHONE.sub(_phone_or_keep, text)
    text = _ADDRESS.sub(ADDRESS, text)
    text = _INTRODUCED.sub(lambda m: m.group(0).replace(m.group(1), NAME), text)
    text = _SIGNED.sub(lambda m: m.group(1) + NAME, text)
    if reporter.name:
        text = _their_name(text, reporter.name)
    digits = re.sub(r"\D", "", reporter.phone)[-10:]
    if len(digits) >= _MIN_PHONE_DIGITS and digits in re.sub(r"\D", "", text):
        text = _PHONE.sub(PHONE, text)
    return text


def reporter_of(case: dict) -> Reporter:
    found = case.get("reporter") or {}
    return Reporter(
        name=found.get("name") or "", email=found.get("email") or "", phone=found.get("phone") or ""
    )
