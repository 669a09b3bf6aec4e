"""Composing a pop: ask the sources, each under its own deadline, and merge what came back in time.

The merge is plain Python over plain dicts, so it is tested with fake sources. The gRPC adapters that
turn the services' protobuf answers into these dicts live in sources.py.

Which candidate gets its balance and purchases fetched while the phone rings: the only one, or the
strongest when it is strictly stronger than the next (an exact match beside suffix matches). When the
strongest kind is shared, nobody is fetched: guessing would show one consumer's balance to another's
caller, and the agent picks instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

MATCH_STRENGTH = {"exact": 3, "national": 2, "suffix": 1}
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX", "PYG", "RWF"}

# What the console does with the pop.
ROUTE_CONSUMER = "consumer"  # one match: that consumer's pop
ROUTE_PICKER = "picker"  # several matches: the agent chooses
ROUTE_NEW_CONSUMER = "new_consumer"  # no match: the new-consumer form, prefilled with the number
ROUTE_WITHHELD = "withheld"  # the caller withheld their number: nothing to match


class Sources(Protocol):
    """Where a pop's parts come from; each returns plain dicts or raises."""

    async def match_caller(
        self, *, number: str, region: str, withheld: bool, recent_contacts: int, deadline: float
    ) -> dict[str, Any]: ...

    async def account_summary(self, *, consumer_id: str, deadline: float) -> dict[str, Any]: ...

    async def purchase_history(self, *, consumer_id: str, deadline: float) -> dict[str, Any]: ...

    async def find_recalls(self, *, skus: list[str], deadline: float) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Deadlines:
    """Seconds each source may take before the pop goes out without it."""

    match: float = 0.3
    source: float = 0.25


@dataclass(frozen=True)
class Outcome:
    """What one source gave: its value, or why not."""

    value: Any = None
    failed: str | None = None  # "timeout", "unavailable", or an error name

    @property
    def ok(self) -> bool:
        return self.failed is None


async def within(deadline: float, work: Awaitable[T]) -> Outcome:
    """Await `work` for at most `deadline` seconds; never raise, report instead."""
    try:
        return Outcome(value=await asyncio.wait_for(work, timeout=deadline))
    except TimeoutError:
        return Outcome(failed="timeout")
    except Exception as exc:  # a source that is down must give a gap, not a missing pop
        return Outcome(failed=_failure_name(exc))


def _failure_name(exc: Exception) -> str:
    """The gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED...) when there is one, else the error's type."""
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            return code().name
        except Exception:
            pass
    return type(exc).__name__


def format_money(money: dict[str, Any] | None) -> dict[str, Any] | None:
    """Money as the services send it, plus a `display` string a person reads."""
    if not money:
        return None
    currency = money.get("currency") or ""
    minor = int(money.get("amount_minor") or 0)
    if currency in ZERO_DECIMAL_CURRENCIES:
        text = f"{minor:,}"
    else:
        sign = "-" if minor < 0 else ""
        whole, cents = divmod(abs(minor), 100)
        text = f"{sign}{whole:,}.{cents:02d}"
    return {"currency": currency, "amount_minor": minor, "display": f"{currency} {text}".strip()}


def suggested_candidate(candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The candidate to fetch while ringing: the only one, or one strictly stronger than the rest."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    ranked = sorted(candidates, key=lambda c: -MATCH_STRENGTH.get(c.get("match", ""), 0))
    best, second = ranked[0], ranked[1]
    if MATCH_STRENGTH.get(best.get("match", ""), 0) > MATCH_STRENGTH.get(second.get("match", ""), 0):
        return best
    return None


def route_for(*, withheld: bool, candidates: list[dict[str, Any]]) -> str:
    if withheld:
        return ROUTE_WITHHELD
    if not candidates:
        return ROUTE_NEW_CONSUMER
    if len(candidates) == 1:
        return ROUTE_CONSUMER
    return ROUTE_PICKER


def _credit_terms(summary: dict[str, Any]) -> dict[str, Any] | None:
    terms = summary.get("credit_terms")
    if not terms:
        return None
    return {
        "limit": format_money(terms.get("limit")),
        "payment_terms": terms.get("payment_terms") or "",
        "net_days": int(terms.get("net_days") or 0),
        "status": terms.get("status") or "unspecified",
    }


def _order(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order.get("id", ""),
        "placed_at": order.get("placed_at"),
        "channel": order.get("channel", ""),
        "status": order.get("status", ""),
        "total": format_money(order.get("total")),
        "lines": [
            {
                "sku": (line.get("product") or {}).get("sku", ""),
                "name": (line.get("product") or {}).get("name", ""),
                "size": (line.get("product") or {}).get("size", ""),
                "quantity": int(line.get("quantity") or 0),
            }
            for line in order.get("lines") or []
        ],
    }


def build_pop(
    *,
    ringing: dict[str, Any],
    match: Outcome | None,
    account: Outcome | None,
    history: Outcome | None,
    composed_at: datetime | None = None,
) -> dict[str, Any]:
    """Merge the sources' outcomes into one pop. `None` means the source was not asked."""
    caller = ringing.get("caller") or {}
    withheld = bool(caller.get("withheld"))
    partial: list[str] = []
    matched: dict[str, Any] = {}
    if match is not None:
        if match.ok:
            matched = match.value or {}
        else:
            partial.append("contacts")
    candidates = list(matched.get("candidates") or [])
    suggested = suggested_candidate(candidates)
    number = matched.get("number_e164") or caller.get("number") or None

    pop: dict[str, Any] = {
        "type": "pop",
        "call_id": ringing.get("call_id", ""),
        "extension": ringing.get("extension", ""),
        "caller": {
            "number": None if withheld else number,
            "display": caller.get("display") or "",
            "withheld": withheld,
        },
        "route": route_for(withheld=withheld, candidates=candidates),
        "caller_trust": caller.get("trust", ""),  # CALLER_TRUST_UNTRUSTED_PEER: the number is unverified
        # The replica of telephony holding the call, for the console's pause and resume; never shown.
        "telephony_control": ringing.get("control_address", ""),
        "matches": [
            {
                "consumer_id": c.get("consumer_id", ""),
                "name": c.get("name", ""),
                "match": c.get("match", ""),
                "current": bool(c.get("current", True)),
                "last_contact_at": c.get("last_contact_at"),
            }
            for c in candidates
        ],
        "consumer": None,
        "balance": None,
        "credit_terms": None,
        "purchases": [],
        "top_products": [],
        "recent_contacts": [],
        # Open recalls of products the consumer bought, with the approved script (insights' recall mode).
        "recalls": [],
        "partial": partial,
        "no_match_reason": matched.get("no_match_reason") or None,
        "explanation": matched.get("explanation") or "",
        "invite_received_at": ringing.get("invite_received_at"),
        "composed_at": (composed_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
    }
    if suggested is not None:
        pop["consumer"] = {
            "consumer_id": suggested.get("consumer_id", ""),
            "name": suggested.get("name", ""),
            "language": suggested.get("language", ""),
            "match": suggested.get("match", ""),
            "matched_number": suggested.get("matched_number", ""),
            "last_contact_at": suggested.get("last_contact_at"),
        }
        pop["recent_contacts"] = list(suggested.get("recent_contacts") or [])
    if account is not None:
        if account.ok:
            summary = account.value or {}
            pop["balance"] = (
                format_money(summary.get("balance")) if summary.get("has_account", True) else None
            )
            pop["credit_terms"] = _credit_terms(summary)
        else:
            partial.append("billing")
    if history is not None:
        if history.ok:
            purchases = history.value or {}
            pop["purchases"] = [_order(o) for o in purchases.get("orders") or []]
            pop["top_products"] = [
                {
                    "sku": (p.get("product") or {}).get("sku", ""),
                    "name": (p.get("product") or {}).get("name", ""),
                    "orders": int(p.get("orders") or 0),
                    "units": int(p.get("units") or 0),
                    "last_bought_at": p.get("last_bought_at"),
                }
                for p in purchases.get("top_products") or []
            ]
        else:
            partial.append("fulfillment")
    return pop


async def compose_pop(
    *,
    ringing: dict[str, Any],
    sources: Sources,
    deadlines: Deadlines,
    region: str,
    recent_contacts: int = 5,
) -> dict[str, Any]:
    """Ask contacts once, then billing and fulfillment in parallel for the suggested candidate."""
    started = time.perf_counter()
    caller = ringing.get("caller") or {}
    if caller.get("withheld"):
        return build_pop(ringing=ringing, match=None, account=None, history=None)
    match = await within(
        deadlines.match,
        sources.match_caller(
            number=caller.get("number") or caller.get("raw") or "",
            region=region,
            withheld=False,
            recent_contacts=recent_contacts,
            deadline=deadlines.match,
        ),
    )
    account = history = None
    suggested = suggested_candidate(list((match.value or {}).get("candidates") or [])) if match.ok else None
    if suggested is not None:
        consumer_id = suggested["consumer_id"]
        account, history = await asyncio.gather(
            within(
                deadlines.source, sources.account_summary(consumer_id=consumer_id, deadline=deadlines.source)
            ),
            within(
                deadlines.source, sources.purchase_history(consumer_id=consumer_id, deadline=deadlines.source)
            ),
        )
    pop = build_pop(ringing=ringing, match=match, account=account, history=history)
    await _add_recalls(pop, sources, deadlines.source)
    if pop["partial"]:
        log.warning(
            "pop composed without %s",
            ", ".join(pop["partial"]),
            extra={"fields": {"elapsed_ms": round((time.perf_counter() - started) * 1000, 2)}},
        )
    return pop


def _recall(recall: dict[str, Any]) -> dict[str, Any]:
    return {
        "recall_id": recall.get("id", ""),
        "sku": recall.get("sku", ""),
        "lot_codes": list(recall.get("lot_codes") or []),
        "title": recall.get("title", ""),
        "script": list(recall.get("script") or []),
        # Orders name the product, not the lot: the agent asks for the lot printed on the pack.
        "lot_on_order": False,
    }


async def _add_recalls(pop: dict[str, Any], sources: Sources, deadline: float) -> None:
    """Ask insights for open recalls of what the consumer bought; late or down, the pop says so and goes."""
    skus = sorted({line["sku"] for order in pop["purchases"] for line in order["lines"] if line["sku"]})
    skus += sorted({p["sku"] for p in pop["top_products"] if p["sku"]} - set(skus))
    if not skus:
        return
    found = await within(deadline, sources.find_recalls(skus=skus, deadline=deadline))
    if found.ok:
        pop["recalls"] = [_recall(r) for r in found.value or []]
    else:
        pop["partial"].append("insights")
