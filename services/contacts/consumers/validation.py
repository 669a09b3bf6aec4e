"""What a consumer record may hold: every check says, for a person, what is wrong."""

from __future__ import annotations

import re

from services.contacts.consumers import phones
from services.contacts.consumers.model import Consumer, Email, Phone, PostalAddress

MAX_NAME = 200
MAX_PHONES = 20
MAX_EMAILS = 20
MAX_ADDRESSES = 10
MAX_ADDRESS_LINE = 200
PHONE_TYPES = {"mobile", "home", "work", "other"}
EMAIL_TYPES = {"personal", "work", "other"}
ADDRESS_TYPES = {"home", "work", "billing", "shipping", "other"}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class ValidationError(ValueError):
    """Input that cannot be stored; the message names the field and the problem."""


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("name: a consumer needs a name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"name: at most {MAX_NAME} characters, got {len(name)}")
    return name


def clean_language(language: str) -> str:
    language = (language or "en").strip()
    if len(language) > 35 or not _LANGUAGE.match(language):
        raise ValidationError(f"language: {language[:40]!r} is not a language tag such as 'en' or 'fr-CA'")
    return language


def clean_phones(items: list[Phone], region: str) -> list[Phone]:
    if len(items) > MAX_PHONES:
        raise ValidationError(f"phones: at most {MAX_PHONES} numbers")
    cleaned: list[Phone] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            number = phones.parse(item.number, region)
        except phones.NumberError as exc:
            raise ValidationError(f"phones[{index}]: {exc}") from None
        kind = (item.type or "mobile").lower()
        if kind not in PHONE_TYPES:
            raise ValidationError(f"phones[{index}].type: one of {', '.join(sorted(PHONE_TYPES))}")
        if item.valid_to and item.valid_from and item.valid_to < item.valid_from:
            raise ValidationError(f"phones[{index}]: valid_to is before valid_from")
        if number.e164 in seen:
            continue
        seen.add(number.e164)
        cleaned.append(Phone(number.e164, kind, item.valid_from, item.valid_to, item.id))
    return cleaned


def clean_emails(items: list[Email]) -> list[Email]:
    if len(items) > MAX_EMAILS:
        raise ValidationError(f"emails: at most {MAX_EMAILS} addresses")
    cleaned = []
    for index, item in enumerate(items):
        address = (item.address or "").strip()
        if len(address) > 254 or not _EMAIL.match(address):
            raise ValidationError(f"emails[{index}]: {address[:60]!r} is not an email address")
        kind = (item.type or "personal").lower()
        if kind not in EMAIL_TYPES:
            raise ValidationError(f"emails[{index}].type: one of {', '.join(sorted(EMAIL_TYPES))}")
        cleaned.append(Email(address, kind))
    return cleaned


def clean_addresses(items: list[PostalAddress]) -> list[PostalAddress]:
    if len(items) > MAX_ADDRESSES:
        raise ValidationError(f"addresses: at most {MAX_ADDRESSES}")
    cleaned = []
    for index, item in enumerate(items):
        region = (item.region_code or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise ValidationError(f"addresses[{index}].region_code: a two-letter country code such as 'US'")
        lines = [line.strip() for line in item.address_lines if line.strip()]
        if len(lines) > 5:
            raise ValidationError(f"addresses[{index}].address_lines: at most 5 lines")
        fields = [*lines, item.locality, item.administrative_area, item.postal_code, item.sorting_code]
        if any(len(value) > MAX_ADDRESS_LINE for value in fields):
            raise ValidationError(f"addresses[{index}]: each part at most {MAX_ADDRESS_LINE} characters")
        if not lines and not item.locality:
            raise ValidationError(f"addresses[{index}]: needs at least a street line or a locality")
        kind = (item.type or "home").lower()
        if kind not in ADDRESS_TYPES:
            raise ValidationError(f"addresses[{index}].type: one of {', '.join(sorted(ADDRESS_TYPES))}")
        cleaned.append(
            PostalAddress(
                region,
                lines,
                item.locality.strip(),
                item.administrative_area.strip(),
                item.postal_code.strip(),
                item.sorting_code.strip(),
                kind,
            )
        )
    return cleaned


def clean_consumer(consumer: Consumer, *, region: str) -> Consumer:
    """A copy of `consumer` with every field checked and normalised; raises ValidationError."""
    return Consumer(
        name=clean_name(consumer.name),
        language=clean_language(consumer.language),
        phones=clean_phones(consumer.phones, region),
        emails=clean_emails(consumer.emails),
        addresses=clean_addresses(consumer.addresses),
        id=consumer.id,
    )
