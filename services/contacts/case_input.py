"""What a case may hold: every field checked, with a message that names it and says what is wrong.

The input is the case as JSON (the REST body, the web form, or the gRPC message in protobuf's JSON
mapping), so every entrance applies the same rules.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from services.contacts.validation import ValidationError, clean_language

CHANNELS = ("phone", "email", "letter", "chat", "web")
DIRECTIONS = ("inbound", "outbound")
MAX_VERBATIM = 20_000
MAX_NOTES = 20_000
MAX_SHORT = 200
MAX_CODE_FIELD = 64
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^[0-9+()./ -]{3,32}$")
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_ACTOR = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
PRODUCT_FIELDS = {
    "sku": ("product_sku", MAX_CODE_FIELD),
    "upc": ("product_upc", MAX_CODE_FIELD),
    "name": ("product_name", MAX_SHORT),
    "lot_code": ("lot_code", MAX_CODE_FIELD),
    "purchase_store": ("purchase_store", MAX_SHORT),
    "purchase_location": ("purchase_location", MAX_SHORT),
}
PRODUCT_DATES = {"best_by": "best_by", "produced_on": "produced_on", "purchased_on": "purchased_on"}
REPORTER_FIELDS = {"name": "reporter_name", "email": "reporter_email", "phone": "reporter_phone"}
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


def search_config(language: str) -> str:
    """The text search configuration for a BCP 47 tag: fr-CA -> french; unknown -> simple."""
    return SEARCH_CONFIGS.get(language.split("-")[0].lower(), "simple")


def text(value, name: str, *, limit: int, strip: bool = True) -> str:
    """A string field: strings only, no NUL, at most `limit` characters; `strip` tidies the spaces."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{name}: must be text")
    if "\x00" in value:
        raise ValidationError(f"{name}: contains a NUL character, which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{name}: contains characters that are not valid Unicode") from None
    if strip:
        value = " ".join(value.split())
    if len(value) > limit:
        raise ValidationError(f"{name}: at most {limit} characters, got {len(value)}")
    return value


def a_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name}: a date as YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{name}: {value[:30]!r} is not a date as YYYY-MM-DD") from None
    if not 1900 <= parsed.year <= 2100:
        raise ValidationError(f"{name}: the year must be between 1900 and 2100")
    return parsed


def a_time(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name}: a date and time such as 2024-05-01T09:30:00Z")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{name}: {value[:40]!r} is not a date and time such as 2024-05-01T09:30:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 2100:
        raise ValidationError(f"{name}: the year must be between 1970 and 2100")
    return parsed.astimezone(UTC)


def an_id(value, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name}: must be an id")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(f"{name}: {value[:60]!r} is not an id") from None


def actor(value, default: str) -> str:
    value = value or default
    if not isinstance(value, str) or not _ACTOR.match(value):
        raise ValidationError("actor: letters, digits and . _ @ + - only, at most 64")
    return value


def call_id(value, name: str = "call_id") -> str:
    if not isinstance(value, str) or not _CALL_ID.match(value):
        raise ValidationError(f"{name}: a call id of 1 to 200 visible characters")
    return value


def _object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{name}: must be an object")
    return value


def clean_fields(data: dict, *, only: set[str] | None = None) -> dict:
    """Column values from a case as JSON; with `only`, just those top-level fields (for an update)."""
    if not isinstance(data, dict):
        raise ValidationError("the case must be a JSON object")

    def wanted(name: str) -> bool:
        return only is None or name in only

    values: dict = {}
    if wanted("consumer_id"):
        values["consumer_id"] = an_id(data.get("consumer_id"), "consumer_id")
    if wanted("channel"):
        channel = data.get("channel") or "phone"
        if channel not in CHANNELS:
            raise ValidationError(f"channel: one of {', '.join(CHANNELS)}")
        values["channel"] = channel
    if wanted("direction"):
        direction = data.get("direction") or "inbound"
        if direction not in DIRECTIONS:
            raise ValidationError(f"direction: one of {', '.join(DIRECTIONS)}")
        values["direction"] = direction
    if wanted("reporter"):
        reporter = _object(data.get("reporter"), "reporter")
        for key, column in REPORTER_FIELDS.items():
            values[column] = text(reporter.get(key), f"reporter.{key}", limit=MAX_SHORT)
        if values["reporter_email"] and not _EMAIL.match(values["reporter_email"]):
            raise ValidationError(
                f"reporter.email: {values['reporter_email'][:60]!r} is not an email address"
            )
        if values["reporter_phone"] and not _PHONE.match(values["reporter_phone"]):
            raise ValidationError("reporter.phone: digits, spaces and + ( ) . - only")
    if wanted("product"):
        product = _object(data.get("product"), "product")
        for key, (column, limit) in PRODUCT_FIELDS.items():
            values[column] = text(product.get(key), f"product.{key}", limit=limit)
        for key, column in PRODUCT_DATES.items():
            values[column] = a_date(product.get(key), f"product.{key}")
        purchased = values["purchased_on"]
        if purchased and purchased > date.today() + timedelta(days=1):
            raise ValidationError("product.purchased_on: is in the future")
    if wanted("issue_code"):
        code = data.get("issue_code")
        if not isinstance(code, str) or not code.strip():
            raise ValidationError(
                "issue_code: every case needs an issue code, e.g. complaint.packaging.leaking"
            )
        values["issue_code"] = code.strip()
    if wanted("severity"):
        severity = data.get("severity") or None
        if severity is not None and severity not in ("low", "medium", "high", "critical"):
            raise ValidationError("severity: one of low, medium, high, critical")
        values["severity"] = severity
    if wanted("verbatim"):
        # The consumer's own words are kept exactly as given: not trimmed, not re-spaced.
        values["verbatim"] = text(data.get("verbatim"), "verbatim", limit=MAX_VERBATIM, strip=False)
    if wanted("notes"):
        values["notes"] = text(data.get("notes"), "notes", limit=MAX_NOTES, strip=False)
    if wanted("language"):
        language = data.get("language") or "en"
        if not isinstance(language, str):
            raise ValidationError("language: a language tag such as 'en' or 'fr-CA'")
        values["language"] = clean_language(language)
        values["search_config"] = search_config(values["language"])
    if wanted("occurred_at"):
        occurred = a_time(data.get("occurred_at"), "occurred_at")
        if occurred and occurred > datetime.now(UTC) + timedelta(minutes=5):
            raise ValidationError("occurred_at: is in the future")
        values["occurred_at"] = occurred
    return values
