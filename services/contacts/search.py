"""Search over cases: full text over verbatims, language-aware, with filters by code, product, lot, dates...

Each verbatim is indexed with the text search configuration of its language (stemmed: "leaking" finds
"leaked"). A query without a language is stemmed in every configuration in use and the results OR'ed,
so one GIN index answers for every language.
"""

from __future__ import annotations

from services.contacts import case_input
from services.contacts.case_input import SEARCH_CONFIGS, search_config
from services.contacts.case_store import CaseStore
from services.contacts.codes import CodeBook
from services.contacts.validation import ValidationError

MAX_LIMIT = 200
MAX_OFFSET = 10_000
# The configurations a language-less query is stemmed in: the languages the centre works in, plus exact words.
DEFAULT_CONFIGS = ("english", "french", "german", "spanish", "simple")
FILTERS = (
    "text",
    "language",
    "issue_code",
    "product",
    "lot_code",
    "status",
    "channel",
    "from",
    "to",
    "consumer_id",
    "escalated_only",
    "open_only",
    "limit",
    "offset",
)


def build(query: dict, book: CodeBook) -> tuple[list[str], dict, str, int, int]:
    """Checked SQL clauses and parameters for a search; raises ValidationError naming the filter."""
    where: list[str] = ["c.issue_code IS NOT NULL"]
    params: dict = {}
    text = case_input.text(query.get("text"), "text", limit=500)
    if text:
        language = query.get("language") or ""
        if language:
            language = case_input.clean_language(language)
            configs = [search_config(language)]
        else:
            configs = list(DEFAULT_CONFIGS)
        assert all(c in SEARCH_CONFIGS.values() or c == "simple" for c in configs)
        params["text"] = text
        tsquery = " || ".join(f"websearch_to_tsquery('{c}', %(text)s)" for c in configs)
        where.append(f"c.verbatim_tsv @@ ({tsquery})")
    code = query.get("issue_code") or ""
    if code:
        book.issue(code, for_new=False)
        params.update(code=code, code_like=code + ".%")
        where.append("(c.issue_code = %(code)s OR c.issue_code LIKE %(code_like)s)")
    product = case_input.text(query.get("product"), "product", limit=64)
    if product:
        params["product"] = product
        where.append("(c.product_sku = %(product)s OR c.product_upc = %(product)s)")
    lot = case_input.text(query.get("lot_code"), "lot_code", limit=64)
    if lot:
        params["lot"] = lot
        where.append("c.lot_code = %(lot)s")
    status = query.get("status") or ""
    if status:
        if status not in book.statuses:
            raise ValidationError(f"status: {status[:40]!r} is not a status")
        params["status"] = status
        where.append("c.status = %(status)s")
    channel = query.get("channel") or ""
    if channel:
        if channel not in case_input.CHANNELS:
            raise ValidationError(f"channel: one of {', '.join(case_input.CHANNELS)}")
        params["channel"] = channel
        where.append("c.channel = %(channel)s")
    start = case_input.a_time(query.get("from"), "from")
    end = case_input.a_time(query.get("to"), "to")
    if start:
        params["start"] = start
        where.append("c.occurred_at >= %(start)s")
    if end:
        params["end"] = end
        where.append("c.occurred_at < %(end)s")
    consumer = case_input.an_id(query.get("consumer_id"), "consumer_id")
    if consumer:
        params["consumer"] = consumer
        where.append("c.consumer_id = %(consumer)s")
    if _truthy(query.get("escalated_only"), "escalated_only"):
        where.append("c.escalated")
    if _truthy(query.get("open_only"), "open_only"):
        open_statuses = [
            code for code, s in book.statuses.items() if s["stage"] not in ("resolved", "closed")
        ]
        params["open_statuses"] = open_statuses
        where.append("c.status = ANY(%(open_statuses)s)")
    limit = _whole(query.get("limit"), "limit", 50, 1, MAX_LIMIT)
    offset = _whole(query.get("offset"), "offset", 0, 0, MAX_OFFSET)
    return where, params, "c.occurred_at DESC, c.id", limit, offset


def _truthy(value, name: str) -> bool:
    if value in (None, "", False, "false", "0"):
        return False
    if value in (True, "true", "1"):
        return True
    raise ValidationError(f"{name}: true or false")


def _whole(value, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: a whole number") from None
    if not low <= number <= high:
        raise ValidationError(f"{name}: between {low} and {high}")
    return number


# The supervisors' queue: the worst first, then the one due soonest.
URGENT_FIRST = (
    "array_position(ARRAY['critical', 'high', 'medium', 'low'], c.severity),"
    " c.resolution_due_at NULLS LAST, c.occurred_at, c.id"
)


async def search(*, store: CaseStore, book: CodeBook, query: dict, order: str | None = None) -> list[dict]:
    """Rows of the cases that match, newest first (or in `order`)."""
    unknown = set(query) - set(FILTERS)
    if unknown:
        raise ValidationError(f"unknown filter {sorted(unknown)[0][:40]!r}; filters are {', '.join(FILTERS)}")
    where, params, newest_first, limit, offset = build(query, book)
    order = order or newest_first
    return await store.search(where=where, params=params, order=order, limit=limit, offset=offset)
