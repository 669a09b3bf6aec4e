"""Casework's reads: a case, its timeline, search, the supervisors' queue, the early warning, filed calls,
and a consumer's recent contacts (what the consumer directory asks of casework). SQL for reads only.

Search is full text over verbatims, language-aware, with filters. Each verbatim is indexed with the text
search configuration of its language (stemmed: "leaking" finds "leaked"). A query without a language is
stemmed in every configuration in use and the results OR'ed, so one GIN index answers for every language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.contacts.casework.domain import fields
from services.contacts.casework.domain.calls import FiledCall, PauseChange, PausedSpan
from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.exceptions import InvalidInput, NotFound
from services.contacts.casework.store import CASE_COLUMNS, case_from_row
from services.contacts.interfaces import ContactSummary
from services.runtime.db import autocommit

MAX_LIMIT = 200
MAX_OFFSET = 10_000
# The configurations a language-less query is stemmed in: the languages the centre works in, plus exact words.
DEFAULT_CONFIGS = ("english", "french", "german", "spanish", "simple")
CLOSED_STAGES = ("resolved", "closed")
NEWEST_FIRST = "c.occurred_at DESC, c.id"
# The supervisors' queue: the worst first, then the one due soonest.
URGENT_FIRST = (
    "array_position(ARRAY['critical', 'high', 'medium', 'low'], c.severity),"
    " c.resolution_due_at NULLS LAST, c.occurred_at, c.id"
)


@dataclass(frozen=True)
class Query:
    """What a search asks for; empty values do not filter."""

    text: str = ""
    language: str = ""
    issue_code: str = ""
    product: str = ""  # SKU or UPC
    lot_code: str = ""
    status: str = ""
    channel: str = ""
    start: datetime | None = None
    end: datetime | None = None
    consumer_id: str = ""
    escalated_only: bool = False
    open_only: bool = False
    limit: int = 0
    offset: int = 0
    reference: int = 0  # the case number
    reporter_phone: str = ""  # as stored: E.164 for a phone the reporter gave
    reporter_name: str = ""  # the reporter's name, a prefix of it, any case
    team: str = ""  # cases captured by this team only (domain/access.search_scope sets it)
    recall_id: str = ""  # the cases in this recall's queue (domain/recalls.py)


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    occurred_at: datetime
    actor: str
    kind: str
    changes: dict
    note: str
    call_id: str = ""  # for an event of one of the case's calls (a recording paused or resumed)

    @classmethod
    def of_call(cls, change: PauseChange) -> TimelineEvent:
        entry = change.entry()
        return cls(0, change.at, entry.actor, entry.kind, entry.changes, entry.note, change.call_id)


@dataclass(frozen=True)
class LotCluster:
    product_sku: str
    lot_code: str
    contacts: int
    first_at: datetime
    last_at: datetime
    issue_codes: list[str]


def whole(value: int, name: str, default: int, low: int, high: int) -> int:
    """A count from a request: 0 means the default; anything else must lie within [low, high]."""
    if not value:
        return default
    if not low <= value <= high:
        raise InvalidInput(f"{name}: between {low} and {high}")
    return value


def where_clauses(query: Query, book: CodeBook, channels: tuple[str, ...]) -> tuple[list[str], dict]:
    """Checked SQL clauses and parameters for a search; raises InvalidInput naming the filter."""
    where: list[str] = ["c.issue_code IS NOT NULL"]
    params: dict = {}
    text = fields.text(query.text, "text", limit=500)
    if text:
        configs = (
            [fields.search_config(fields.a_language(query.language))]
            if query.language
            else list(DEFAULT_CONFIGS)
        )
        params["text"] = text
        # The configurations are names from our own table, never from the request.
        tsquery = " || ".join(f"websearch_to_tsquery('{c}', %(text)s)" for c in configs)
        where.append(f"c.verbatim_tsv @@ ({tsquery})")
    if query.issue_code:
        book.issue(query.issue_code, for_new=False)
        params.update(code=query.issue_code, code_like=query.issue_code + ".%")
        where.append("(c.issue_code = %(code)s OR c.issue_code LIKE %(code_like)s)")
    product = fields.text(query.product, "product", limit=64)
    if product:
        params["product"] = product
        where.append("(c.product_sku = %(product)s OR c.product_upc = %(product)s)")
    lot = fields.text(query.lot_code, "lot_code", limit=64)
    if lot:
        params["lot"] = lot
        where.append("c.lot_code = %(lot)s")
    if query.status:
        if query.status not in book.statuses:
            raise InvalidInput(f"status: {query.status[:40]!r} is not a status")
        params["status"] = query.status
        where.append("c.status = %(status)s")
    if query.channel:
        if query.channel not in channels:
            raise InvalidInput(f"channel: one of {', '.join(channels)}")
        params["channel"] = query.channel
        where.append("c.channel = %(channel)s")
    if query.start:
        params["start"] = query.start
        where.append("c.occurred_at >= %(start)s")
    if query.end:
        params["end"] = query.end
        where.append("c.occurred_at < %(end)s")
    consumer = fields.an_id(query.consumer_id, "consumer_id")
    if consumer:
        params["consumer"] = consumer
        where.append("c.consumer_id = %(consumer)s")
    _particular_clauses(query, where, params)
    if query.escalated_only:
        where.append("c.escalated")
    if query.open_only:
        params["open_statuses"] = [c for c, s in book.statuses.items() if s["stage"] not in CLOSED_STAGES]
        where.append("c.status = ANY(%(open_statuses)s)")
    return where, params


def _particular_clauses(query: Query, where: list[str], params: dict) -> None:
    """The filters that name one case or one caller, and the team a supervisor's listing is kept to."""
    if query.reference:
        params["reference"] = query.reference
        where.append("c.reference = %(reference)s")
    phone = fields.text(query.reporter_phone, "reporter_phone", limit=40)
    if phone:
        params["phone"] = phone
        where.append("c.reporter_phone = %(phone)s")
    name = fields.text(query.reporter_name, "reporter_name", limit=200)
    if name:
        params["name"] = name.replace("\\", "").replace("%", "").replace("_", "") + "%"
        where.append("c.reporter_name ILIKE %(name)s")
    if query.team:
        params["team"] = query.team
        where.append("c.team = %(team)s")
    recall = fields.an_id(query.recall_id, "recall_id")
    if recall:
        params["recall"] = recall
        where.append("c.id IN (SELECT rc.contact_id FROM recall_case rc WHERE rc.recall_id = %(recall)s)")


class CaseViews:
    def __init__(self, pool: AsyncConnectionPool, *, channels: tuple[str, ...]):
        self.pool = pool
        self.channels = channels

    async def _rows(self, sql: str, params) -> list[dict]:
        async with autocommit(self.pool) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def case(self, case_id: str) -> Case:
        case_id = fields.an_id(case_id, "id")
        if case_id is None:
            raise InvalidInput("id: which case?")
        rows = await self._rows(f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.id = %s", (case_id,))
        if not rows:
            raise NotFound(f"no case {case_id}")
        return case_from_row(rows[0])

    async def timeline(self, case_id: str) -> list[TimelineEvent]:
        """Every event of a case, and the pauses of its calls' recordings, oldest first.

        The pauses are the call's (call_recording_pause), read through the case's calls at each read, so a
        case linked to a call after it was paused shows them too, and no case's version moves for them."""
        case = await self.case(case_id)
        rows = await self._rows(
            "SELECT id, occurred_at, actor, kind, changes, note FROM contact_event WHERE contact_id = %s ORDER BY id",
            (case.id,),
        )
        own = [TimelineEvent(**row) for row in rows]
        calls = case.all_call_ids
        if not calls:
            return own
        pauses = await self._rows(
            "SELECT event_id, call_id, paused, actor, actor_role, occurred_at AS at, offset_seconds"
            " FROM call_recording_pause WHERE call_id = ANY(%s) ORDER BY occurred_at, event_id",
            (calls,),
        )
        of_calls = [TimelineEvent.of_call(PauseChange(**row)) for row in pauses]
        # A stable sort: the case's own events keep their order among themselves.
        return sorted(own + of_calls, key=lambda event: event.occurred_at)

    async def search(self, query: Query, book: CodeBook, *, order: str = NEWEST_FIRST) -> list[Case]:
        """The cases that match, newest first."""
        where, params = where_clauses(query, book, self.channels)
        params.update(
            limit=whole(query.limit, "limit", 50, 1, MAX_LIMIT),
            offset=whole(query.offset, "offset", 0, 0, MAX_OFFSET),
        )
        rows = await self._rows(
            f"SELECT {CASE_COLUMNS} FROM contact c WHERE {' AND '.join(where)} ORDER BY {order}"
            " LIMIT %(limit)s OFFSET %(offset)s",
            params,
        )
        return [case_from_row(row) for row in rows]

    async def queue(self, book: CodeBook, *, limit: int, offset: int, status: str = "") -> list[Case]:
        """Open escalated cases (in `status`, when named), most urgent first."""
        query = Query(escalated_only=True, open_only=True, status=status, limit=limit, offset=offset)
        return await self.search(query, book, order=URGENT_FIRST)

    async def recall_queue(self, book: CodeBook, *, recall_id: str, limit: int, offset: int) -> list[Case]:
        """The open cases routed to the recall's queue, most urgent first."""
        if not fields.an_id(recall_id, "recall_id"):
            raise InvalidInput("recall_id: which recall?")
        query = Query(recall_id=recall_id, open_only=True, limit=limit, offset=offset)
        return await self.search(query, book, order=URGENT_FIRST)

    async def early_warning(self, *, days: int, threshold: int, issue_prefix: str) -> list[LotCluster]:
        """Lots with at least `threshold` contacts under `issue_prefix` in the last `days` days."""
        rows = await self._rows(
            "SELECT product_sku, lot_code, count(*)::int AS contacts, min(occurred_at) AS first_at,"
            " max(occurred_at) AS last_at, array_agg(DISTINCT issue_code ORDER BY issue_code) AS issue_codes"
            " FROM contact WHERE product_sku <> '' AND lot_code <> ''"
            " AND occurred_at > now() - make_interval(days => %(days)s)"
            " AND (issue_code = %(prefix)s OR issue_code LIKE %(like)s)"
            " GROUP BY product_sku, lot_code HAVING count(*) >= %(threshold)s ORDER BY count(*) DESC LIMIT 100",
            {"days": days, "threshold": threshold, "prefix": issue_prefix, "like": issue_prefix + ".%"},
        )
        return [LotCluster(**row) for row in rows]

    async def filed_call(self, call_id: str) -> FiledCall:
        """The call telephony filed, with the cases it belongs to (its own contact once coded, and links)."""
        call_id = fields.a_call_id(call_id)
        rows = await self._rows(
            "SELECT f.call_id, f.consumer_id::text, f.caller_number, f.recording_key, f.duration_seconds,"
            " f.occurred_at AS started_at, f.agent_extension AS extension, f.recording_paused AS paused,"
            " ARRAY(SELECT id::text FROM (SELECT f.id WHERE f.issue_code IS NOT NULL"
            "  UNION SELECT cc.contact_id FROM contact_call cc WHERE cc.call_id = f.call_id) linked(id)"
            "  ORDER BY id) AS case_ids"
            " FROM contact f WHERE f.call_id = %s",
            (call_id,),
        )
        if not rows:
            raise NotFound(f"no filed call {call_id!r}")
        row = rows[0]
        return FiledCall(**row | {"paused": tuple(PausedSpan.from_dict(span) for span in row["paused"])})

    async def recent_contacts(
        self, *, consumer_ids: list[str], limit: int
    ) -> dict[str, list[ContactSummary]]:
        """Each consumer's latest contacts, newest first: the history a screen pop shows."""
        rows = await self._rows(
            "SELECT r.id::text, r.consumer_id::text, r.channel, r.direction, r.summary, r.status, r.occurred_at,"
            " r.call_id, r.duration_seconds, r.recording_key"
            " FROM unnest(%(ids)s::uuid[]) AS wanted(id)"
            " CROSS JOIN LATERAL ("
            "  SELECT * FROM contact WHERE consumer_id = wanted.id ORDER BY occurred_at DESC LIMIT %(limit)s"
            " ) r",
            {"ids": consumer_ids, "limit": limit},
        )
        found: dict[str, list[ContactSummary]] = {}
        for row in rows:
            found.setdefault(row["consumer_id"], []).append(ContactSummary(**row))
        return found
