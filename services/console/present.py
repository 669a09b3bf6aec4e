"""How values read on a page: money, times. Registered as template filters."""

from __future__ import annotations

from typing import Any

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX", "PYG", "RWF"}


def money(value: dict[str, Any] | None) -> str:
    """Money as the services send it ({"currency", "amount_minor"}), as a person reads it."""
    if not value:
        return "—"
    currency = value.get("currency") or ""
    minor = int(value.get("amount_minor") or 0)
    if currency in ZERO_DECIMAL_CURRENCIES:
        text = f"{minor:,}"
    else:
        sign = "-" if minor < 0 else ""
        whole, cents = divmod(abs(minor), 100)
        text = f"{sign}{whole:,}.{cents:02d}"
    return f"{currency} {text}".strip()


def when(value: str | None) -> str:
    """An RFC 3339 time as 'YYYY-MM-DD HH:MM' (UTC)."""
    return value[:16].replace("T", " ") if value else "—"


def words(value: str | None) -> str:
    return str(value or "—").replace("_", " ")


FILTERS = {"money": money, "when": when, "words": words}
