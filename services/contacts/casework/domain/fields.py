"""A case's input checked against the rules its contract declares (handed in as plain objects).

The rules say, for each field, whether a client may write it, its length, format, allowed values and
default (casework.proto's `(crs.common.v1.rule)` options, read by services/runtime/protoschema.py).
Every entrance — gRPC, the web form — goes through `clean`, so every entrance applies the same rules,
and every message names the field and says what is wrong.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from services.contacts.casework.exceptions import InvalidInput

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^[0-9+()./ -]{3,32}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_NOTE = 1000
# PostgreSQL's text search configurations by language; any other language is searched word for word.
SEARCH_CONFIGS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}


class FieldRule(Protocol):
    """One field's declared rule (services/runtime/protoschema.Rule has this shape)."""

    name: str
    kind: str
    writable: bool
    required: bool
    max_length: int
    format: str
    one_of: tuple[str, ...]
    default: str
    keep_spacing: bool
    fields: Mapping[str, FieldRule]


def search_config(language: str) -> str:
    """The text search configuration for a BCP 47 tag: fr-CA -> french; unknown -> simple."""
    return SEARCH_CONFIGS.get(language.split("-")[0].lower(), "simple")


def text(value, name: str, *, limit: int, strip: bool = True) -> str:
    """A string field: strings only, no NUL, at most `limit` characters; `strip` tidies the spaces."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: must be text")
    if "\x00" in value:
        raise InvalidInput(f"{name}: contains a NUL character, which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name}: contains characters that are not valid Unicode") from None
    if strip:
        value = " ".join(value.split())
    if limit and len(value) > limit:
        raise InvalidInput(f"{name}: at most {limit} characters, got {len(value)}")
    return value


def a_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: a date as YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value[:30]!r} is not a date as YYYY-MM-DD") from None
    if not 1900 <= parsed.year <= 2100:
        raise InvalidInput(f"{name}: the year must be between 1900 and 2100")
    return parsed


def a_time(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                f"{name}: {value[:40]!r} is not a date and time such as 2024-05-01T09:30:00Z"
            ) from None
    else:
        raise InvalidInput(f"{name}: a date and time such as 2024-05-01T09:30:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 2100:
        raise InvalidInput(f"{name}: the year must be between 1970 and 2100")
    return parsed.astimezone(UTC)


def an_id(value, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: must be an id")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(f"{name}: {value[:60]!r} is not an id") from None


def a_language(value, name: str = "language") -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: a language tag such as 'en' or 'fr-CA'")
    value = value.strip()
    if len(value) > 35 or not _LANGUAGE.match(value):
        raise InvalidInput(f"{name}: {value[:40]!r} is not a language tag such as 'en' or 'fr-CA'")
    return value


def a_call_id(value, name: str = "call_id") -> str:
    if not isinstance(value, str) or not _CALL_ID.match(value):
        raise InvalidInput(f"{name}: a call id of 1 to 200 visible characters")
    return value


def _formatted(value: str, rule: FieldRule, name: str):
    if not value:
        return value
    if rule.format == "email" and not _EMAIL.match(value):
        raise InvalidInput(f"{name}: {value[:60]!r} is not an email address")
    if rule.format == "phone" and not _PHONE.match(value):
        raise InvalidInput(f"{name}: digits, spaces and + ( ) . - only")
    if rule.format == "language":
        return a_language(value, name)
    return value


def _value(value, rule: FieldRule, name: str):
    """One field's value by its rule: the typed value to keep."""
    if rule.kind == "timestamp":
        return a_time(value, name)
    if rule.kind == "message":
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise InvalidInput(f"{name}: must be an object")
        return _fields(value, rule.fields, name + ".", only=None)
    if rule.format == "date":
        return a_date(value, name)
    if rule.format == "uuid":
        return an_id(value, name)
    cleaned = text(value, name, limit=rule.max_length, strip=not rule.keep_spacing)
    if not cleaned and rule.default:
        cleaned = rule.default
    if rule.required and not cleaned.strip():
        raise InvalidInput(f"{name}: is required; every case needs one")
    if rule.one_of and cleaned and cleaned not in rule.one_of:
        raise InvalidInput(f"{name}: one of {', '.join(rule.one_of)}")
    return _formatted(cleaned, rule, name)


def _fields(data: dict, rules: Mapping[str, FieldRule], prefix: str, *, only: set[str] | None) -> dict:
    unknown = sorted(set(data) - {n for n, r in rules.items() if r.writable})
    if unknown:
        raise InvalidInput(f"{prefix}{unknown[0][:40]}: not a field a client may set")
    return {
        name: _value(data.get(name), rule, prefix + name)
        for name, rule in rules.items()
        if rule.writable and (only is None or name in only)
    }


def clean(data: dict, rules: Mapping[str, FieldRule], *, only: set[str] | None = None, now: datetime) -> dict:
    """The writable fields of a case given as JSON, checked and typed; with `only`, just those fields.

    Nested messages (product, reporter) come back as dicts; dates as `date`, times as aware `datetime`,
    empty values with a declared default as that default.
    """
    if not isinstance(data, dict):
        raise InvalidInput("the case must be a JSON object")
    if only is not None:
        unwritable = sorted(only - {n for n, r in rules.items() if r.writable})
        if unwritable:
            raise InvalidInput(f"update_mask: cannot change {', '.join(unwritable)} this way")
        data = {k: v for k, v in data.items() if k in only}
    values = _fields(data, rules, "", only=only)
    purchased = (values.get("product") or {}).get("purchased_on")
    if purchased and purchased > now.date() + timedelta(days=1):
        raise InvalidInput("product.purchased_on: is in the future")
    occurred = values.get("occurred_at")
    if occurred and occurred > now + timedelta(minutes=5):
        raise InvalidInput("occurred_at: is in the future")
    return values
