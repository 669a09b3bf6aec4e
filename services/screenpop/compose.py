"""Composing a pop: ask the sources, each under its own deadline, and merge what came back in time.

The merge is plain Python over plain dicts, so it is tested with fake sources. The gRPC adapters that
turn the services' protobuf answers into these dicts live in sources.py.

Which candidate gets its balance and purchases fetched while the phone rings: the only one, or the
strongest when it is strictly stronger than the next (an exact match beside suffix matches). When the
strongest kind is shared, nobody is fetched: guessing would show one consumer's balance to another's
caller, and the agent picks instead.

Shedding by the ring's deadline: a pop is worth something only while the phone rings, so each pop has a
budget from the INVITE (`Budget.ring`). Screenpop gives each source no more than what is left of it, and
asks nothing it has no time to wait for: first the enrichment goes (balance, purchases, recalls: a pop
with the caller's match only), then the match (a bare pop: the number and the new-consumer form). A pop
whose budget was spent before it was dequeued still goes at once, bare, without waiting on any source.
Such a pop is `degraded`, with the reason, and `partial` names what it lacks, as for a source that failed.
The time itself (deadlines, the budget, what is left of it) is budget.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from services.screenpop.budget import (
    CUT_AT_RING_DEADLINE,
    DEFAULT_BUDGET,
    DEGRADED_REASONS,
    LATE,
    NO_TIME_TO_ENRICH,
    NO_TIME_TO_MATCH,
    SKIPPED,
    Budget,
    Deadlines,
    Outcome,
    Ring,
    within,
)

log = logging.getLogger(__name__)

__all__ = [  # the budget's names, used with the pop's by the consumer and the tests
    "CUT_AT_RING_DEADLINE",
    "DEGRADED_REASONS",
    "LATE",
    "NO_TIME_TO_ENRICH",
    "NO_TIME_TO_MATCH",
    "Budget",
    "Deadlines",
    "Outcome",
    "within",
]

MATCH_STRENGTH = {"exact": 3, "national": 2, "suffix": 1}
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX", "PYG", "RWF"}

# What the console does with the pop.
ROUTE_CONSUMER = "consumer"  # one match: that consumer's pop
ROUTE_PICKER = "picker"  # several matches: the agent chooses
ROUTE_NEW_CONSUMER = "new_consumer"  # no match: the new-consumer form, prefilled with the number
ROUTE_WITHHELD = "withheld"  # the caller withheld their number: nothing to match

# The sources a pop's parts come from, as `partial` names them.
CONTACTS = "contacts"
BILLING = "billing"
FULFILLMENT = "fulfillment"
INSIGHTS = "insights"


class Sources(Protocol):
    """Where a pop's parts come from; each returns plain dicts or raises."""

    async def match_caller(
        self, *, number: str, region: str, withheld: bool, recent_contacts: int, deadline: float
    ) -> dict[str, Any]: ...

    async def account_summary(self, *, consumer_id: str, deadline: float) -> dict[str, Any]: ...

    async def purchase_history(self, *, consumer_id: str, deadline: float) -> dict[str, Any]: ...

    async def find_recalls(self, *, skus: list[str], deadline: float) -> list[dict[str, Any]]: ...


NOT_LOOKED_UP = "Not looked up in time: the caller may already be a consumer, so search before creating one."


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
            partial.append(CONTACTS)
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
        # The sources whose part is missing: failed, late, or not asked for want of time.
        "partial": partial,
        # None, or why screenpop shed work to send the pop on time (DEGRADED_REASONS).
        "degraded": None,
        "no_match_reason": matched.get("no_match_reason") or None,
        "explanation": matched.get("explanation") or (NOT_LOOKED_UP if match is SKIPPED else ""),
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
            partial.append(BILLING)
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
            partial.append(FULFILLMENT)
    return pop


async def compose_pop(
    *,
    ringing: dict[str, Any],
    sources: Sources,
    deadlines: Deadlines,
    region: str,
    recent_contacts: int = 5,
    budget: Budget = DEFAULT_BUDGET,
    rang_at: float | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Ask contacts once, then billing and fulfillment in parallel for the suggested candidate, each
    within what is left of the ring's budget (counted from `rang_at`, the INVITE; else from now)."""
    started = time.perf_counter()
    caller = ringing.get("caller") or {}
    if caller.get("withheld"):
        return build_pop(ringing=ringing, match=None, account=None, history=None)
    ring = Ring(budget, clock() if rang_at is None else rang_at, clock)
    number = caller.get("number") or caller.get("raw") or ""
    match = await ring.ask(
        deadlines.match,
        NO_TIME_TO_MATCH,
        lambda deadline: sources.match_caller(
            number=number,
            region=region,
            withheld=False,
            recent_contacts=recent_contacts,
            deadline=deadline,
        ),
    )
    account = history = None
    suggested = suggested_candidate(list((match.value or {}).get("candidates") or [])) if match.ok else None
    if suggested is not None:
        account, history = await _enrich(ring, sources, deadlines.source, suggested["consumer_id"])
    pop = build_pop(ringing=ringing, match=match, account=account, history=history)
    await _add_recalls(pop, sources, ring, deadlines.source)
    pop["degraded"] = ring.degraded
    if pop["partial"]:
        (log.info if ring.degraded else log.warning)(
            "pop composed without %s",
            ", ".join(pop["partial"]),
            extra={
                "fields": {
                    "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
                    "degraded": ring.degraded,
                }
            },
        )
    return pop


async def _enrich(ring: Ring, sources: Sources, own: float, consumer_id: str) -> tuple[Outcome, Outcome]:
    """Balance and purchases in parallel, both under the same share of the budget, or neither."""
    if ring.left() < ring.budget.least:
        ring.shed(LATE if ring.left() <= 0 else NO_TIME_TO_ENRICH)
        return SKIPPED, SKIPPED
    account, history = await asyncio.gather(
        ring.ask(
            own,
            NO_TIME_TO_ENRICH,
            lambda deadline: sources.account_summary(consumer_id=consumer_id, deadline=deadline),
        ),
        ring.ask(
            own,
            NO_TIME_TO_ENRICH,
            lambda deadline: sources.purchase_history(consumer_id=consumer_id, deadline=deadline),
        ),
    )
    return account, history


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


async def _add_recalls(pop: dict[str, Any], sources: Sources, ring: Ring, own: float) -> None:
    """Ask insights for open recalls of what the consumer bought; late or down, the pop says so and goes."""
    skus = sorted({line["sku"] for order in pop["purchases"] for line in order["lines"] if line["sku"]})
    skus += sorted({p["sku"] for p in pop["top_products"] if p["sku"]} - set(skus))
    if not skus:
        return
    found = await ring.ask(
        own, NO_TIME_TO_ENRICH, lambda deadline: sources.find_recalls(skus=skus, deadline=deadline)
    )
    if found.ok:
        pop["recalls"] = [_recall(r) for r in found.value or []]
    else:
        pop["partial"].append(INSIGHTS)
