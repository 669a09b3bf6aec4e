"""SQL for the insights schema; nothing else."""

from __future__ import annotations

import json
from datetime import date

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.insights import convert
from services.insights.domain import aggregates, voice
from services.insights.domain.alerts import Alert, Transition
from services.insights.domain.buyers import Purchase
from services.insights.domain.facts import ContactFact
from services.insights.domain.recalls import Recall
from services.insights.domain.sales import SalesRow
from services.insights.domain.signals import Signal
from services.insights.domain.work import CaseWork, Rating
from services.insights.service import Read, Received
from services.insights.staff_store import owe
from services.runtime.outbox import add_events

_FACT_COLUMNS = "contact_id, sku, lot_code, region, issue_code, channel, received_on, consumer_on_file"
_PUT_CONTACT = f"""
INSERT INTO contact (version, {_FACT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (contact_id) DO UPDATE SET version = EXCLUDED.version, sku = EXCLUDED.sku,
  lot_code = EXCLUDED.lot_code, region = EXCLUDED.region, issue_code = EXCLUDED.issue_code,
  channel = EXCLUDED.channel, received_on = EXCLUDED.received_on,
  consumer_on_file = EXCLUDED.consumer_on_file
WHERE contact.version <= EXCLUDED.version
"""
_CELL_COLUMNS = "sku, lot_code, region, issue_code, channel, received_on"
_MOVE_CELL = f"""
INSERT INTO contact_cell ({_CELL_COLUMNS}, week, contacts, weight)
VALUES (%s, %s, %s, %s, %s, %s, date_trunc('week', %s::date)::date, %s, %s)
ON CONFLICT ({_CELL_COLUMNS}) DO UPDATE SET contacts = contact_cell.contacts + EXCLUDED.contacts,
  weight = contact_cell.weight + EXCLUDED.weight
"""
_LEAVE_CELL = f"""
UPDATE contact_cell SET contacts = contacts + %s, weight = weight + %s
WHERE ({_CELL_COLUMNS}) = (%s, %s, %s, %s, %s, %s)
"""
_DROP_EMPTY_CELL = (
    f"DELETE FROM contact_cell WHERE ({_CELL_COLUMNS}) = (%s, %s, %s, %s, %s, %s) AND contacts = 0"
)
# A week is one row, but for the weeks the detectors see day by day (aggregates.split_weeks).
_DETECTOR_CELLS = """
SELECT sku, lot_code, region, issue_code,
  CASE WHEN week = ANY(%(split)s::date[]) THEN received_on ELSE week END AS first,
  CASE WHEN week = ANY(%(split)s::date[]) THEN received_on ELSE week + 6 END AS last,
  sum(weight) AS weight
FROM contact_cell GROUP BY 1, 2, 3, 4, 5, 6
"""
_CONTACTS_BEHIND = """
SELECT s.token, c.contact_id, c.received_on
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::date[], %s::date[], %s::text[])
  AS s (sku, lot_code, region, issue_code, first, last, token)
JOIN contact c ON c.sku = s.sku AND c.issue_code = s.issue_code AND c.received_on BETWEEN s.first AND s.last
  AND c.lot_code = s.lot_code AND c.region = s.region
"""
# A volume chart's key per dimension, as voice._key makes it; an issue cut at the query's level.
_VOLUME_KEYS = {
    "issue": "array_to_string((string_to_array(issue_code, '.'))[1:%(level)s], '.')",
    "product": "sku",
    "region": "region",
    "channel": "channel",
}
_VOLUMES = """
SELECT week, COALESCE(NULLIF({key}, ''), %(none)s) AS key, sum(contacts)::int AS contacts
FROM contact_cell
WHERE week BETWEEN %(first)s AND %(last)s
  AND (%(code)s = '' OR issue_code = %(code)s OR issue_code LIKE %(under)s)
GROUP BY 1, 2
"""
_WORK_COLUMNS = (
    "case_id, team, agent, channel, issue_code, created_at, stage, escalated, calls,"
    " first_response_seconds, resolution_seconds, sla_breach"
)
_PUT_WORK = f"""
INSERT INTO case_work (version, {_WORK_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, team = EXCLUDED.team,
  agent = EXCLUDED.agent, channel = EXCLUDED.channel, issue_code = EXCLUDED.issue_code,
  created_at = EXCLUDED.created_at, stage = EXCLUDED.stage, escalated = EXCLUDED.escalated,
  calls = EXCLUDED.calls, first_response_seconds = EXCLUDED.first_response_seconds,
  resolution_seconds = EXCLUDED.resolution_seconds, sla_breach = EXCLUDED.sla_breach
WHERE case_work.version <= EXCLUDED.version
"""
_RATING_COLUMNS = "answer_id, case_id, kind, score, answered_at, team, agent, channel"
_PUT_RATING = f"""
INSERT INTO survey_rating ({_RATING_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (answer_id) DO NOTHING
"""
_RECALL_COLUMNS = (
    "id, sku, lot_codes, regions, title, script, consumer_message, alert_id, status, opened_by,"
    " opened_at, closed_by, closed_at, close_reason"
)
_ALERT_COLUMNS = (
    "id, method, sku, lot_code, region, issue_code, observed, expected, score, contact_ids,"
    " period_start, period_end, status, first_raised_at"
)


def _fact_params(fact: ContactFact, version: int) -> tuple:
    return (
        version, fact.contact_id, fact.sku, fact.lot_code, fact.region, fact.issue_code, fact.channel,
        fact.received_on, fact.consumer_on_file,
    )  # fmt: skip


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, query: str, params=()) -> list[dict]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def record(self, event: Received, read: Read) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO event_log (event_id, source, type, occurred_at, data) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (event_id) DO NOTHING",
                (event.event_id, event.source, event.type, event.time, json.dumps(event.data)),
            )
            if cur.rowcount == 0:
                return False
            if read.fact is not None:
                await _put_contact(conn, read.fact, read.version)
            await _put_work(conn, read)
            return True

    async def replay(self) -> list[Received]:
        rows = await self._rows(
            "SELECT event_id, source, type, occurred_at, data FROM event_log ORDER BY seq"
        )
        return [
            Received(str(r["event_id"]), r["source"], r["type"], r["occurred_at"], r["data"]) for r in rows
        ]

    async def clear_read_models(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("DELETE FROM contact")
            await conn.execute("DELETE FROM contact_cell")
            await conn.execute("DELETE FROM case_work")
            await conn.execute("DELETE FROM survey_rating")

    async def put_contact(self, fact: ContactFact, version: int) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await _put_contact(conn, fact, version)

    async def contacts(self) -> list[ContactFact]:
        rows = await self._rows(f"SELECT {_FACT_COLUMNS} FROM contact")
        return [ContactFact(**r) for r in rows]

    async def cells(self) -> list[aggregates.Cell]:
        rows = await self._rows(f"SELECT {_CELL_COLUMNS}, contacts, weight FROM contact_cell")
        return [aggregates.Cell(**r) for r in rows]

    async def detector_cells(self, split: frozenset[date]) -> list[aggregates.CellFact]:
        rows = await self._rows(_DETECTOR_CELLS, {"split": sorted(split)})
        return [
            aggregates.span_fact(
                aggregates.Span(r["sku"], r["lot_code"], r["region"], r["issue_code"], r["first"], r["last"]),
                r["weight"],
            )
            for r in rows
        ]

    async def contacts_behind(self, tokens: list[str]) -> dict[str, list[tuple[str, date]]]:
        spans = [aggregates.Span.of(t) for t in tokens]
        columns = [
            [getattr(s, name) for s in spans]
            for name in ("sku", "lot_code", "region", "issue_code", "first", "last")
        ]
        found: dict[str, list[tuple[str, date]]] = {t: [] for t in tokens}
        for r in await self._rows(_CONTACTS_BEHIND, (*columns, tokens)):
            found[r["token"]].append((r["contact_id"], r["received_on"]))
        return found

    async def volume_counts(self, query: voice.VolumeQuery) -> dict[tuple[date, str], int]:
        under = query.issue_code.replace("%", r"\%").replace("_", r"\_") + ".%"
        params = {"level": query.level, "none": voice.UNKNOWN, "first": query.first, "last": query.last}
        params |= {"code": query.issue_code, "under": under}
        rows = await self._rows(_VOLUMES.format(key=_VOLUME_KEYS[query.by]), params)
        return {(r["week"], r["key"]): r["contacts"] for r in rows}

    async def put_work(self, read: Read) -> None:
        async with self.pool.connection() as conn:
            await _put_work(conn, read)

    async def works(self) -> list[CaseWork]:
        return [CaseWork(**r) for r in await self._rows(f"SELECT {_WORK_COLUMNS} FROM case_work")]

    async def ratings(self) -> list[Rating]:
        return [Rating(**r) for r in await self._rows(f"SELECT {_RATING_COLUMNS} FROM survey_rating")]

    async def put_sales(self, rows: list[SalesRow], source: str, actor: str) -> int:
        async with self.pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO sales (sku, lot_code, region, period_start, period_end, units, source, imported_by)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (sku, lot_code, region, period_start, period_end) DO UPDATE SET"
                " units = EXCLUDED.units, source = EXCLUDED.source, imported_by = EXCLUDED.imported_by,"
                " imported_at = now()",
                [
                    (r.sku, r.lot_code, r.region, r.period_start, r.period_end, r.units, source, actor)
                    for r in rows
                ],
            )
        return len(rows)

    async def sales(self) -> list[SalesRow]:
        rows = await self._rows("SELECT sku, lot_code, region, period_start, period_end, units FROM sales")
        return [SalesRow(**r) for r in rows]

    async def _alerts(self, where: str, params) -> list[Alert]:
        rows = await self._rows(
            f"SELECT {_ALERT_COLUMNS} FROM alert {where} ORDER BY first_raised_at, id", params
        )
        if not rows:
            return []
        moves = await self._rows(
            "SELECT alert_id, status, actor, reason, at FROM alert_transition WHERE alert_id = ANY(%s) ORDER BY id",
            ([r["id"] for r in rows],),
        )
        history: dict = {}
        for m in moves:
            history.setdefault(m["alert_id"], []).append(
                Transition(m["status"], m["actor"], m["reason"], m["at"])
            )
        found = []
        for r in rows:
            signal = Signal(
                r["method"], r["sku"], r["lot_code"], r["region"], r["issue_code"], r["observed"],
                r["expected"], r["score"], tuple(r["contact_ids"]), r["period_start"], r["period_end"],
            )  # fmt: skip
            found.append(Alert(signal, r["status"], r["first_raised_at"], tuple(history.get(r["id"], ()))))
        return found

    async def alerts(self, since: date | None = None, status: str = "") -> list[Alert]:
        return await self._alerts(
            "WHERE (%s::date IS NULL OR first_raised_at >= %s::date) AND (%s = '' OR status = %s)",
            (since, since, status, status),
        )

    async def alert(self, alert_id: str) -> Alert | None:
        found = await self._alerts("WHERE id::text = %s", (alert_id,))
        return found[0] if found else None

    async def save_alerts(self, changed: list[Alert], raised: list[Alert]) -> None:
        if not changed:
            return
        new = {a.id for a in raised}
        async with self.pool.connection() as conn, conn.transaction():
            for a in changed:
                s = a.signal
                await conn.execute(
                    f"INSERT INTO alert ({_ALERT_COLUMNS}) VALUES"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET observed = EXCLUDED.observed,"
                    " expected = EXCLUDED.expected, score = EXCLUDED.score, contact_ids = EXCLUDED.contact_ids,"
                    " period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end",
                    (
                        a.id, s.method, s.sku, s.lot_code, s.region, s.issue_code, s.observed, s.expected,
                        s.score, list(s.contact_ids), s.period_start, s.period_end, a.status, a.first_raised_at,
                    ),
                )  # fmt: skip
                if a.id in new:
                    await self._transitions(conn, a, a.history)
            await add_events(conn, [convert.alert_raised(a) for a in raised])
            # ... and the email to quality assurance, owed in the same transaction (staff_mail.py sends it).
            await owe(conn, [(f"alert:{a.id}", "alert", {"alert_id": a.id}) for a in raised])

    async def _transitions(self, conn, alert: Alert, moves) -> None:
        for t in moves:
            await conn.execute(
                "INSERT INTO alert_transition (alert_id, status, actor, reason, at) VALUES (%s, %s, %s, %s, %s)",
                (alert.id, t.status, t.actor, t.reason, t.at),
            )

    async def save_move(self, alert: Alert) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE alert SET status = %s WHERE id = %s", (alert.status, alert.id))
            await self._transitions(conn, alert, alert.history[-1:])

    # -- recalls --

    async def recalls(self, status: str = "") -> list[Recall]:
        rows = await self._rows(
            f"SELECT {_RECALL_COLUMNS} FROM recall WHERE (%s = '' OR status = %s) ORDER BY opened_at DESC, id",
            (status, status),
        )
        return [_recall_of(r) for r in rows]

    async def recall(self, recall_id: str) -> Recall | None:
        rows = await self._rows(f"SELECT {_RECALL_COLUMNS} FROM recall WHERE id::text = %s", (recall_id,))
        return _recall_of(rows[0]) if rows else None

    async def save_recall(self, recall: Recall, escalated: Alert | None = None) -> None:
        """The recall, the alert it escalates and its event, in one transaction (through the outbox)."""
        r = recall
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO recall ({_RECALL_COLUMNS}) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, closed_by = EXCLUDED.closed_by,"
                " closed_at = EXCLUDED.closed_at, close_reason = EXCLUDED.close_reason",
                (
                    r.id, r.sku, list(r.lot_codes), list(r.regions), r.title, list(r.script),
                    r.consumer_message, r.alert_id or None, r.status, r.opened_by, r.opened_at,
                    r.closed_by, r.closed_at, r.close_reason,
                ),
            )  # fmt: skip
            if escalated is not None:
                before = await conn.execute(
                    "SELECT count(*) FROM alert_transition WHERE alert_id = %s", (escalated.id,)
                )
                (kept,) = await before.fetchone()
                await conn.execute(
                    "UPDATE alert SET status = %s WHERE id = %s", (escalated.status, escalated.id)
                )
                await self._transitions(conn, escalated, escalated.history[kept:])
            await add_events(conn, [convert.recall_event(r)])

    # -- buyers, for a recall's tally --

    async def put_purchases(self, purchases: list[Purchase]) -> int:
        async with self.pool.connection() as conn, conn.cursor() as cur:
            taken = 0
            for p in purchases:
                await cur.execute(
                    "INSERT INTO buyer (order_id, sku, consumer_id, region, placed_at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (p.order_id, p.sku, p.consumer_id, p.region, p.placed_at),
                )
                taken += cur.rowcount
            return taken

    async def buyers(self, sku: str, regions: tuple[str, ...]) -> int:
        rows = await self._rows(
            "SELECT count(DISTINCT consumer_id) AS n FROM buyer"
            " WHERE sku = %s AND (cardinality(%s::text[]) = 0 OR region = ANY(%s::text[]))",
            (sku, list(regions), list(regions)),
        )
        return rows[0]["n"]


async def _put_contact(conn, fact: ContactFact, version: int) -> None:
    """The contact's latest version, and its count moved to its cell (inside the caller's transaction)."""
    cur = await conn.execute(
        f"SELECT version, {_FACT_COLUMNS} FROM contact WHERE contact_id = %s FOR UPDATE", (fact.contact_id,)
    )
    held = await cur.fetchone()
    if held is not None and held[0] > version:
        return
    await conn.execute(_PUT_CONTACT, _fact_params(fact, version))
    for move in aggregates.moves(ContactFact(*held[1:]) if held else None, fact):
        if move.contacts > 0:
            await conn.execute(_MOVE_CELL, (*move.key, move.key[5], move.contacts, move.weight))
        else:
            await conn.execute(_LEAVE_CELL, (move.contacts, move.weight, *move.key))
            await conn.execute(_DROP_EMPTY_CELL, move.key)


async def _put_work(conn, read: Read) -> None:
    """How the case was worked (a later version replaces an earlier), or a rating (the first counts)."""
    if read.work is not None:
        w = read.work
        await conn.execute(
            _PUT_WORK,
            (
                read.version, w.case_id, w.team, w.agent, w.channel, w.issue_code, w.created_at, w.stage,
                w.escalated, w.calls, w.first_response_seconds, w.resolution_seconds, w.sla_breach,
            ),
        )  # fmt: skip
    if read.rating is not None:
        r = read.rating
        await conn.execute(
            _PUT_RATING,
            (r.answer_id, r.case_id, r.kind, r.score, r.answered_at, r.team, r.agent, r.channel),
        )


def _recall_of(r: dict) -> Recall:
    return Recall(
        id=str(r["id"]), sku=r["sku"], lot_codes=tuple(r["lot_codes"]), regions=tuple(r["regions"]),
        title=r["title"], script=tuple(r["script"]), consumer_message=r["consumer_message"],
        alert_id=str(r["alert_id"] or ""), status=r["status"], opened_by=r["opened_by"],
        opened_at=r["opened_at"], closed_by=r["closed_by"], closed_at=r["closed_at"],
        close_reason=r["close_reason"],
    )  # fmt: skip
