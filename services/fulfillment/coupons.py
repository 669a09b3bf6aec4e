"""Coupon codes: unguessable, typed by people, and checked before any database lookup.

A code is 15 random characters from Crockford's base-32 alphabet (75 bits from `secrets`) and one check
character by the Luhn mod 32 algorithm, shown in four groups of four: `7KQ2-MX9D-HT4R-WB3J`. The
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


def _luhn_sum(values: list[int]) -> int:
    """Luhn mod N over `values`, the rightmost doubled first (as if a check character followed)."""
    n = len(ALPHABET)
    total = 0
    for position, value in enumerate(reversed(values)):
        if position % 2 == 0:
            value *= 2
            value = value // n + value % n
        total += value
    return total


def check_character(body: str) -> str:
    """The check character that makes `body` + it a valid code."""
    values = [_VALUE[ch] for ch in body]
    n = len(ALPHABET)
    return ALPHABET[(n - _luhn_sum(values) % n) % n]


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
