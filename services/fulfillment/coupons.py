"""Coupon codes: unguessable, typed by people, and checked before any database lookup.

A code is 15 random characters from Crockford's base-32 alphabet (75 bits from `secrets`) and one check
character by Damm's algorithm over GF(32), shown in four groups of four: `7KQ2-MX9D-HT4R-WB30`. The
alphabet has no I, L, O or U, and reading forgives the usual confusions (O for 0, I or L for 1), case
and separators. The check character catches every single wrong character and every swap of two
neighbours, so a mistyped or invented code is refused without touching the store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 15
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_CONFUSED = str.maketrans({"O": "0", "I": "1", "L": "1"})


class MalformedCode(ValueError):
    """Not a code this system could have issued."""


# GF(32) as polynomials over GF(2) modulo x^5 + x^2 + 1; doubling is multiplication by x.
_FIELD_POLYNOMIAL = 0b100101


def _times_x(value: int) -> int:
    value <<= 1
    return value ^ _FIELD_POLYNOMIAL if value & 0b100000 else value


def _interim(values: list[int]) -> int:
    """Damm's running value over the quasigroup a * b = x.a + b of GF(32). Because x is neither 0 nor 1,
    (c * a) * b = (c * b) * a only when a = b: swapping two different neighbours always changes the result.
    Luhn mod 32, used before, missed the swap of 0 and Z (and of any two values summing to 31 when
    doubled), about one code in forty."""
    interim = 0
    for value in values:
        interim = _times_x(interim) ^ value
    return interim


def check_character(body: str) -> str:
    """The check character that makes `body` + it a valid code: the one that brings the interim to 0."""
    return ALPHABET[_times_x(_interim([_VALUE[ch] for ch in body]))]


def generate() -> str:
    """A new code, grouped for reading."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return group(body + check_character(body))


def group(compact: str) -> str:
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def normalise(typed: str) -> str:
    """The grouped form of a typed code; MalformedCode when it cannot be one of ours."""
    compact = "".join(ch for ch in (typed or "").upper() if ch not in " -").translate(_CONFUSED)
    if len(compact) != RANDOM_LENGTH + 1 or any(ch not in _VALUE for ch in compact):
        raise MalformedCode("a coupon code has 16 letters and digits")
    if check_character(compact[:-1]) != compact[-1]:
        raise MalformedCode("this is not a valid coupon code (its check character does not match)")
    return group(compact)


@dataclass(frozen=True)
class Coupon:
    code: str
    fulfillment_id: str
    value_minor: int
    currency: str
    skus: tuple[str, ...]
    expires_at: datetime
    redeemed_at: datetime | None = None
    redemption_reference: str = ""

    def status(self, now: datetime) -> str:
        if self.redeemed_at is not None:
            return "redeemed"
        if now >= self.expires_at:
            return "expired"
        return "valid"


class AlreadyRedeemed(RuntimeError):
    pass


class Expired(RuntimeError):
    pass
