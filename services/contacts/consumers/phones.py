"""Phone numbers as people and networks write them, turned into E.164 and the keys used to match them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import phonenumbers

MAX_INPUT = 64
SUFFIX_DIGITS = 7
# Identities that mean "the caller withheld the number", as SIP networks spell them.
WITHHELD_WORDS = {"anonymous", "restricted", "private", "unavailable", "unknown", "withheld", "asserted-id"}


class NumberError(ValueError):
    """A number that cannot be read; the message says why, for a person."""


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    country_code: int
    national_number: str
    extension: str | None = None

    @property
    def suffix(self) -> str:
        """The last digits: the weakest key, for numbers recorded with a wrong or missing area code."""
        return self.national_number[-SUFFIX_DIGITS:]

    @property
    def region(self) -> str | None:
        return phonenumbers.region_code_for_country_code(self.country_code)


def keys_for(e164: str) -> tuple[int, str, str]:
    """Country code, national number and suffix of an E.164 number already known to be good."""
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.national_significant_number(parsed)
    return parsed.country_code, national, national[-SUFFIX_DIGITS:]


def _strip_uri(text: str) -> tuple[str, str | None]:
    """The number part of a tel:, sip: or sips: URI, and the phone-context it names, if any."""
    lowered = text.lower()
    context = None
    if lowered.startswith("tel:"):
        text = text[4:]
        number, *params = text.split(";")
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "phone-context" and value.startswith("+"):
                context = value
            elif name.strip().lower() == "ext":
                number = f"{number} ext. {value}"
        return unquote(number), context
    if lowered.startswith(("sip:", "sips:")):
        text = text.split(":", 1)[1]
        user = text.split("@", 1)[0] if "@" in text else ""
        return unquote(user.split(";")[0]), None
    return text, None


def is_withheld_word(text: str) -> bool:
    return text.strip().strip('"').lower() in WITHHELD_WORDS


def parse(raw: str, region: str) -> PhoneNumber:
    """Read `raw` as a phone number, national spellings being read as in `region` (ISO 3166 alpha-2).

    Raises NumberError for anything that is not a possible phone number.
    """
    if raw is None or not raw.strip():
        raise NumberError("the number is empty")
    if len(raw) > MAX_INPUT:
        raise NumberError(f"the number is longer than {MAX_INPUT} characters")
    text, context = _strip_uri(raw.strip())
    if not text.strip():
        raise NumberError("the address has no number in it")
    if is_withheld_word(text):
        raise NumberError("the caller withheld the number")
    if context and not text.startswith("+"):
        text = context + text
    region = (region or "").upper() or None
    try:
        parsed = phonenumbers.parse(text, region)
        if not phonenumbers.is_possible_number(parsed) and re.match(r"\s*00", text):
            # "00" is the international prefix in most of the world, but not in the region given.
            parsed = phonenumbers.parse("+" + text.lstrip()[2:], region)
    except phonenumbers.NumberParseException as exc:
        raise NumberError(f"{raw!r} is not a phone number: {_explain(exc)}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise NumberError(f"{raw!r} has the wrong number of digits for a phone number")
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        country_code=parsed.country_code,
        national_number=phonenumbers.national_significant_number(parsed),
        extension=parsed.extension or None,
    )


def _explain(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
            "no country code, and no region to read it in"
        ),
        phonenumbers.NumberParseException.NOT_A_NUMBER: "it does not look like a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, str(exc))


def format_international(e164: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
