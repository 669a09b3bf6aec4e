"""Regulatory clocks' writes and reads, in SQL, inside casework's unit of work: regimes, holidays, filed
reports and the deadline warnings sent."""

from __future__ import annotations

from datetime import date, datetime

import psycopg
from psycopg.rows import dict_row

from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.regulatory import Filing, Regime, Span
from services.contacts.casework.store import CASE_COLUMNS, PostgresUnitOfWork, case_from_row

REGIME_COLUMNS = (
    "code, name, authority, form, issue_prefixes, min_severity, deadline_amount, deadline_unit, warn_amount,"
    " warn_unit, form_fields, notify, active"
)


def regime_from(row: dict) -> Regime:
    return Regime(
        code=row["code"],
        name=row["name"],
        authority=row["authority"],
        form=row["form"],
        issue_prefixes=tuple(row["issue_prefixes"]),
        deadline=Span(row["deadline_amount"], row["deadline_unit"]),
        warn_before=Span(row["warn_amount"], row["warn_unit"]),
        min_severity=row["min_severity"],
        form_fields=tuple(row["form_fields"]),
        notify=tuple(row["notify"]),
        active=row["active"],
    )


class RegulatoryRepository:
    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def _rows(self, sql: str, params=()) -> list[dict]:
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall() if cur.description else []

    async def regimes(self, *, include_inactive: bool = False) -> list[Regime]:
        where = "" if include_inactive else " WHERE active"
        rows = await self._rows(f"SELECT {REGIME_COLUMNS} FROM regulatory_regime{where} ORDER BY code")
        return [regime_from(row) for row in rows]

    async def put_regime(self, regime: Regime, *, actor: str) -> None:
        await self._rows(
            f"INSERT INTO regulatory_regime ({REGIME_COLUMNS}, updated_by)"
            " VALUES (%(code)s, %(name)s, %(authority)s, %(form)s, %(issue_prefixes)s, %(min_severity)s,"
            " %(deadline_amount)s, %(deadline_unit)s, %(warn_amount)s, %(warn_unit)s, %(form_fields)s,"
            " %(notify)s, %(active)s, %(actor)s)"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, authority = excluded.authority,"
            " form = excluded.form, issue_prefixes = excluded.issue_prefixes,"
            " min_severity = excluded.min_severity, deadline_amount = excluded.deadline_amount,"
            " deadline_unit = excluded.deadline_unit, warn_amount = excluded.warn_amount,"
            " warn_unit = excluded.warn_unit, form_fields = excluded.form_fields, notify = excluded.notify,"
            " active = excluded.active, updated_by = excluded.updated_by, updated_at = now()",
            {
                "code": regime.code,
                "name": regime.name,
                "authority": regime.authority,
                "form": regime.form,
                "issue_prefixes": list(regime.issue_prefixes),
                "min_severity": regime.min_severity,
                "deadline_amount": regime.deadline.amount,
                "deadline_unit": regime.deadline.unit,
                "warn_amount": regime.warn_before.amount,
                "warn_unit": regime.warn_before.unit,
                "form_fields": list(regime.form_fields),
                "notify": list(regime.notify),
                "active": regime.active,
                "actor": actor,
            },
        )

    async def holidays(self) -> list[tuple[date, str]]:
        rows = await self._rows("SELECT day, name FROM business_holiday ORDER BY day")
        return [(row["day"], row["name"]) for row in rows]

    async def put_holiday(self, day: date, name: str) -> None:
        await self._rows(
            "INSERT INTO business_holiday (day, name) VALUES (%s, %s)"
            " ON CONFLICT (day) DO UPDATE SET name = excluded.name",
            (day, name),
        )

    async def remove_holiday(self, day: date) -> None:
        await self._rows("DELETE FROM business_holiday WHERE day = %s", (day,))

    async def filings(self, case_ids: list[str]) -> dict[str, Filing]:
        rows = await self._rows(
            "SELECT contact_id::text, reported_at, reported_by, reference FROM case_regulatory_report"
            " WHERE contact_id = ANY(%s::uuid[])",
            (case_ids,),
        )
        return {row.pop("contact_id"): Filing(**row) for row in rows}

    async def _timeline(self, case_id: str, at: datetime, actor: str, kind: str, note: str) -> None:
        """A line on the case's timeline; it moves no case version (an open edit does not go stale)."""
        await self._rows(
            "INSERT INTO contact_event (contact_id, occurred_at, actor, kind, note) VALUES (%s, %s, %s, %s, %s)",
            (case_id, at, actor, kind, note),
        )

    async def file(
        self, case_id: str, regime: str, filing: Filing, *, recorded_at: datetime, note: str
    ) -> None:
        await self._rows(
            "INSERT INTO case_regulatory_report (contact_id, regime, reported_at, reported_by, reference,"
            " recorded_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (case_id, regime, filing.reported_at, filing.reported_by, filing.reference, recorded_at),
        )
        await self._timeline(case_id, recorded_at, filing.reported_by, "report_filed", note)

    async def unwarned(self, prefixes: list[str], *, since: datetime, limit: int) -> list[Case]:
        """Cases under one of `prefixes`, received since `since`, neither warned of nor filed, oldest
        first (the first to fall due), locked for this sweep: replicas skip each other's."""
        rows = await self._rows(
            f"SELECT {CASE_COLUMNS} FROM contact c WHERE c.occurred_at >= %(since)s AND c.issue_code IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM unnest(%(prefixes)s::text[]) p"
            "  WHERE c.issue_code = p OR c.issue_code LIKE p || '.%%')"
            " AND NOT EXISTS (SELECT 1 FROM case_regulatory_report r WHERE r.contact_id = c.id)"
            " AND NOT EXISTS (SELECT 1 FROM regulatory_warning w WHERE w.contact_id = c.id)"
            " ORDER BY c.occurred_at LIMIT %(limit)s FOR UPDATE OF c SKIP LOCKED",
            {"since": since, "prefixes": prefixes, "limit": limit},
        )
        return [case_from_row(row) for row in rows]

    async def record_warning(
        self, case_id: str, regime: str, *, due_at: datetime, warned_at: datetime, note: str
    ) -> None:
        inserted = await self._rows(
            "INSERT INTO regulatory_warning (contact_id, regime, due_at, warned_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING contact_id",
            (case_id, regime, due_at, warned_at),
        )
        if inserted:
            await self._timeline(case_id, warned_at, "system", "regulatory_warning", note)


class RegulatoryUnitOfWork(PostgresUnitOfWork):
    """Casework's transaction, with the regulatory tables beside the cases."""

    regulatory: RegulatoryRepository

    async def __aenter__(self) -> RegulatoryUnitOfWork:
        await super().__aenter__()
        self.regulatory = RegulatoryRepository(self.conn)
        return self
