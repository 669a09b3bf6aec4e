"""Regulatory clocks' use cases: each case's reporting clock, editing regimes and holidays, marking a report
filed, the form's export, and warning legal before a deadline (the sweep), over casework's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from services.contacts.casework.domain import regulatory
from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.regulatory import BusinessCalendar, Filing, Regime, ReportClock
from services.contacts.casework.exceptions import InvalidInput, Refused
from services.runtime.events import Event

# Oldest first, so the cases due first are never crowded out by ones not yet near their deadline.
WARNING_BATCH = 1000
# Cases received longer ago than this are not swept: a deadline counted in weeks is long past by then, and
# switching the clocks on must not warn of every health-and-safety case in the archive.
LOOKBACK = timedelta(days=60)


class RegulatoryUnitOfWork(Protocol):
    """One transaction over the regulatory tables (regulatory_store.RegulatoryRepository, or a fake)."""

    regulatory: object

    async def __aenter__(self) -> RegulatoryUnitOfWork: ...

    async def __aexit__(self, *exc) -> None: ...

    async def publish(self, events: list[Event]) -> None: ...

    async def commit(self) -> None: ...


class Regulatory:
    def __init__(
        self,
        *,
        unit_of_work: Callable[[], RegulatoryUnitOfWork],
        warning: Callable[[Case, ReportClock, datetime], Event],
        form_fields: Iterable[str],
        clock: Callable[[], datetime],
    ):
        self.unit_of_work = unit_of_work
        self.warning = warning
        self.form_fields = tuple(form_fields)
        self.clock = clock

    @staticmethod
    async def _rules(uow) -> tuple[list[Regime], BusinessCalendar]:
        regimes = await uow.regulatory.regimes()
        return regimes, BusinessCalendar(day for day, _ in await uow.regulatory.holidays())

    @staticmethod
    def _clock(case: Case, regimes, calendar, filing: Filing | None = None) -> ReportClock | None:
        if not case.issue_code or case.occurred_at is None:
            return None
        return regulatory.clock_for(
            regimes,
            calendar,
            issue_code=case.issue_code,
            severity=case.severity or "",
            received_at=case.occurred_at,
            filing=filing,
        )

    async def clocks(self, cases: list[Case]) -> dict[str, ReportClock]:
        """The reporting clock of each case a regime applies to, by case id."""
        if not cases:
            return {}
        async with self.unit_of_work() as uow:
            regimes, calendar = await self._rules(uow)
            filings = await uow.regulatory.filings([c.id for c in cases]) if regimes else {}
        found = {c.id: self._clock(c, regimes, calendar, filings.get(c.id)) for c in cases}
        return {case_id: clock for case_id, clock in found.items() if clock is not None}

    async def clock_of(self, case: Case) -> ReportClock:
        clock = (await self.clocks([case])).get(case.id)
        if clock is None:
            raise Refused(f"case {case.reference}: no regulatory regime applies to its issue and severity")
        return clock

    async def regimes(self, *, include_inactive: bool = False) -> list[Regime]:
        async with self.unit_of_work() as uow:
            return await uow.regulatory.regimes(include_inactive=include_inactive)

    async def put_regime(self, given: dict, *, actor: str, issue_codes: Iterable[str]) -> Regime:
        regime = regulatory.clean_regime(given, form_fields=self.form_fields)
        known = frozenset(issue_codes)
        unknown = [p for p in regime.issue_prefixes if p not in known]
        if unknown:
            raise InvalidInput(f"issue_prefixes: {unknown[0]!r} is not an issue code")
        async with self.unit_of_work() as uow:
            await uow.regulatory.put_regime(regime, actor=actor)
            await uow.commit()
        return regime

    async def holidays(self) -> list[tuple]:
        async with self.unit_of_work() as uow:
            return await uow.regulatory.holidays()

    async def put_holiday(self, day: str, name: str, *, remove: bool = False) -> list[tuple]:
        """Add or rename a holiday, or (remove) take it off the list; returns the list as it now is."""
        if remove:
            when = regulatory.clean_day(day)
        else:
            when, name = regulatory.clean_holiday(day, name)
        async with self.unit_of_work() as uow:
            if remove:
                await uow.regulatory.remove_holiday(when)
            else:
                await uow.regulatory.put_holiday(when, name)
            await uow.commit()
            return await uow.regulatory.holidays()

    async def file_report(
        self, case: Case, *, reported_at: datetime | None, reference: str, actor: str
    ) -> ReportClock:
        """Mark the case's report filed with the authority; a report is marked filed once."""
        reference = reference.strip()
        if len(reference) > 200:
            raise InvalidInput("reference: at most 200 characters")
        now = self.clock()
        reported_at = reported_at or now
        if reported_at > now + timedelta(minutes=5):
            raise InvalidInput("reported_at: a report cannot be marked filed in the future")
        clock = await self.clock_of(case)
        if clock.filing is not None:
            raise Refused(
                f"case {case.reference}: its report was marked filed by {clock.filing.reported_by}"
                f" at {clock.filing.reported_at:%Y-%m-%d %H:%M} UTC"
            )
        filed = clock.filed(Filing(reported_at, actor, reference))
        async with self.unit_of_work() as uow:
            await uow.regulatory.file(
                case.id, clock.regime.code, filed.filing, recorded_at=now, note=filed.filing_note()
            )
            await uow.commit()
        return filed

    async def warn_due(self, *, now: datetime | None = None) -> int:
        """Warn legal, once per case, of every unfiled report whose warning time has come. The mark and
        the warning's event commit together. Returns how many were warned."""
        now = now or self.clock()
        warned = 0
        async with self.unit_of_work() as uow:
            regimes, calendar = await self._rules(uow)
            prefixes = sorted({p for r in regimes for p in r.issue_prefixes})
            if not prefixes:
                return 0
            for case in await uow.regulatory.unwarned(prefixes, since=now - LOOKBACK, limit=WARNING_BATCH):
                clock = self._clock(case, regimes, calendar)
                if clock is None or not clock.needs_warning(now):
                    continue
                await uow.regulatory.record_warning(
                    case.id, clock.regime.code, due_at=clock.due_at, warned_at=now, note=clock.warning_note()
                )
                await uow.publish([self.warning(case, clock, now)])
                warned += 1
            await uow.commit()
        return warned
