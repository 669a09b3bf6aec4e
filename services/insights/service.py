"""The insights service's use cases: take casework's events in, import units sold, compute CPMU and the
early warning, and move alerts through their lifecycle. Plain Python over a Store protocol.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Protocol

from services.insights.domain import aggregates, disproportionality, reports, signals, voice, work
from services.insights.domain import alerts as alerting
from services.insights.domain import buyers as buying
from services.insights.domain import facts as contact_facts
from services.insights.domain import recalls as recalling
from services.insights.domain import sales as sold
from services.insights.domain.alerts import Alert, AlertNotFound, InvalidMove
from services.insights.domain.facts import ContactFact, InvalidFact
from services.insights.domain.recalls import Recall, RecallNotFound
from services.insights.domain.sales import CpmuRow, SalesRow
from services.insights.domain.work import CaseWork, Rating

log = logging.getLogger(__name__)

CASE_EVENTS = ("contact_created", "contact_updated", "contact_escalated", "contact_resolved")
SURVEY_EVENTS = ("survey_answered",)


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class Received:
    """An event off the bus; logged with `data` reduced to the contact insights read from it."""

    event_id: str
    source: str
    type: str
    time: datetime
    data: dict


@dataclass(frozen=True)
class Read:
    """What insights reads from one event: the contact and how its case was worked, or a rating."""

    fact: ContactFact | None = None
    version: int = 0
    work: CaseWork | None = None
    rating: Rating | None = None

    @property
    def record(self) -> dict:
        """What the event log keeps of the event, and a rebuild reads back (`_from_record`)."""
        if self.rating is not None:
            return {"rating": work.to_record(self.rating)}
        if self.fact is None:
            return {}
        found = contact_facts.to_record(self.fact, self.version)
        return {**found, "work": work.to_record(self.work)} if self.work else found


class Store(Protocol):
    async def record(self, event: Received, read: Read) -> bool: ...
    async def replay(self) -> list[Received]: ...
    async def clear_read_models(self) -> None: ...
    async def put_contact(self, fact: ContactFact, version: int) -> None: ...
    async def contacts(self) -> list[ContactFact]: ...
    async def detector_cells(self, split: frozenset[date]) -> list[aggregates.CellFact]: ...
    async def contacts_behind(self, tokens: list[str]) -> dict[str, list[tuple[str, date]]]: ...
    async def volume_counts(self, query: voice.VolumeQuery) -> dict[tuple[date, str], int]: ...
    async def put_work(self, read: Read) -> None: ...
    async def works(self) -> list[CaseWork]: ...
    async def ratings(self) -> list[Rating]: ...
    async def put_sales(self, rows: list[SalesRow], source: str, actor: str) -> int: ...
    async def sales(self) -> list[SalesRow]: ...
    async def alerts(self, since: date | None = None, status: str = "") -> list[Alert]: ...
    async def alert(self, alert_id: str) -> Alert | None: ...
    async def save_alerts(self, changed: list[Alert], raised: list[Alert]) -> None: ...
    async def save_move(self, alert: Alert) -> None: ...
    async def recalls(self, status: str = "") -> list[Recall]: ...
    async def recall(self, recall_id: str) -> Recall | None: ...
    async def save_recall(self, recall: Recall, escalated: Alert | None = None) -> None: ...
    async def put_purchases(self, purchases: list[buying.Purchase]) -> int: ...
    async def buyers(self, sku: str, regions: tuple[str, ...]) -> int: ...


def now() -> datetime:
    return datetime.now(UTC)


def _read(event: Received) -> Read:
    try:
        if event.source == "outreach" and event.type in SURVEY_EVENTS:
            return Read(rating=work.rating_of(event.data))
        if event.source != "contacts" or event.type not in CASE_EVENTS:
            return Read()
        case = event.data.get("case") or {}
        version = int(case.get("version") or 0)
        fact = contact_facts.from_case(case)
    except (InvalidFact, ValueError) as exc:
        log.warning("ignoring %s event %s: %s", event.type, event.event_id, exc)
        return Read()
    try:
        worked = work.work_of(case)
    except InvalidFact as exc:
        log.warning("event %s: no report figures: %s", event.event_id, exc)
        worked = None
    return Read(fact, version, worked)


def _from_record(record: dict) -> Read:
    if "rating" in record:
        return Read(rating=work.rating_from_record(record["rating"]))
    # The demo's worked cases (seed_reports.py) are logged with their work alone, no contact.
    fact, version = contact_facts.from_record(record) if "contact_id" in record else (None, 1)
    worked = work.work_from_record(record["work"]) if "work" in record else None
    return Read(fact, version, worked)


@dataclass
class Insights:
    store: Store
    clock: Callable[[], datetime] = now
    tuning: signals.Tuning = field(default_factory=signals.Tuning)
    dirty: bool = False
    dirty_since: float = 0.0  # time.monotonic() of the first change not yet recomputed
    last_taken: float = 0.0

    def _changed(self) -> None:
        moment = time.monotonic()
        if not self.dirty:
            self.dirty, self.dirty_since = True, moment
        self.last_taken = moment

    async def take(self, event: Received) -> bool:
        """Apply one event; False when it was taken before (the bus may deliver it twice).

        The log keeps the contact as insights reads it, never the event's case: the case carries the
        reporter, the verbatim and the consumer id, and insights is to hold no personal data at all.
        """
        read = _read(event)
        fresh = await self.store.record(replace(event, data=read.record), read)
        if fresh and read.fact is not None:
            self._changed()
        return fresh

    async def rebuild(self) -> int:
        """Drop the read models and build them again from every event logged, in order; returns how
        many contacts it read back (the worked cases and ratings come back with them)."""
        await self.store.clear_read_models()
        count = 0
        for event in await self.store.replay():
            if not event.data:
                continue  # an event taken for its id alone: it had no contact insights could read
            try:
                read = _from_record(event.data)
            except InvalidFact as exc:
                log.warning("skipping logged event %s: %s", event.event_id, exc)
                continue
            if read.fact is not None:
                await self.store.put_contact(read.fact, read.version)
                count += 1
            await self.store.put_work(read)
        self._changed()
        return count

    async def import_sales(self, rows: list[dict], *, source: str, actor: str, role: str) -> int:
        if role not in alerting.MANAGERS:
            raise NotAllowed("only quality assurance (analyst) or an admin imports sales")
        parsed = sold.parse_rows(rows)
        count = await self.store.put_sales(parsed, source[:200], actor)
        self._changed()
        return count

    async def cpmu(
        self, by: str = "product", issue_code: str = "", since: date | None = None
    ) -> list[CpmuRow]:
        prefix = issue_code or signals.COMPLAINT
        chosen = [
            f
            for f in await self.store.contacts()
            if prefix in contact_facts.issue_levels(f.issue_code)
            and (since is None or f.received_on >= since)
        ]
        sales = [s for s in await self.store.sales() if since is None or s.period_end >= since]
        return sold.cpmu(chosen, sales, by=by)

    async def recompute(self) -> list[Alert]:
        """Every signal from the read models; returns the alerts raised for the first time."""
        self.dirty = False
        today = self.clock().date()
        found = signals.compute(
            await self.store.detector_cells(aggregates.split_weeks(today)),
            await self.store.sales(),
            today=today,
            tuning=self.tuning,
        )
        found = aggregates.resolve(found, await self.store.contacts_behind(aggregates.tokens(found)))
        existing = {a.id: a for a in await self.store.alerts()}
        changed, raised, moment = [], [], self.clock()
        for signal in found:
            before = existing.get(signal.alert_id)
            alert, new = alerting.raise_or_refresh(before, signal, moment)
            if alert != before:
                changed.append(alert)
            if new:
                raised.append(alert)
        await self.store.save_alerts(changed, raised)
        signalled = {s.alert_id for s in found}
        for alert in existing.values():
            if (
                alert.status == "new"
                and alert.id not in signalled
                and not disproportionality.aged_out(alert.signal, moment.date())
            ):
                # Nobody has looked at it yet, and the figures no longer bear it out (a history that
                # arrived in pieces, corrected sales): closed, saying so, rather than left to alarm.
                await self.store.save_move(alerting.withdraw(alert, moment))
        return raised

    async def alerts(self, since: date | None = None, status: str = "") -> list[Alert]:
        if status and status not in alerting.MOVES:
            raise InvalidMove(f"status must be one of {', '.join(alerting.MOVES)}")
        return await self.store.alerts(since, status)

    async def alert(self, alert_id: str) -> Alert:
        found = await self.store.alert(alert_id)
        if found is None:
            raise AlertNotFound(f"no alert {alert_id}")
        return found

    async def move(self, alert_id: str, status: str, *, actor: str, role: str, reason: str) -> Alert:
        if role not in alerting.MANAGERS:
            raise NotAllowed("only quality assurance (analyst) or an admin moves an alert")
        moved = alerting.move(
            await self.alert(alert_id), status, actor=actor, reason=reason, now=self.clock()
        )
        await self.store.save_move(moved)
        return moved

    # -- the voice of the consumer (the dashboard) --

    async def _series_rows(self) -> list[ContactFact]:
        """What the early warning's series are watched on (the contact cells), for the charts that show them."""
        return await self.store.detector_cells(aggregates.split_weeks(self.clock().date()))

    async def volumes(self, **query) -> voice.Volumes:
        chosen, span = voice.volume_query(today=self.clock().date(), **query)
        counts = await self.store.volume_counts(chosen)
        return voice.ranked_volumes(counts, span, query.get("max_keys", 8))

    async def rising(self, limit: int = 10) -> list[voice.Rising]:
        return voice.rising(
            await self._series_rows(),
            await self.store.sales(),
            today=self.clock().date(),
            tuning=self.tuning,
            limit=limit,
        )

    async def cpmu_trend(self, weeks: int = 26, sku: str = "") -> list[voice.CpmuTrend]:
        return voice.cpmu_trend(
            await self._series_rows(),
            await self.store.sales(),
            today=self.clock().date(),
            weeks=weeks,
            sku=sku,
            tuning=self.tuning,
        )

    async def contacts_in(self, where: voice.Slice, limit: int = 200) -> tuple[list[ContactFact], int]:
        return voice.contacts_in(await self.store.contacts(), where, limit)

    # -- the operational reports --

    async def report(
        self, name: str, *, by: str = "", since: date | None = None, until: date | None = None
    ) -> reports.Report:
        return reports.build(
            name,
            await self.store.works(),
            await self.store.ratings(),
            now=self.clock(),
            by=by,
            since=since,
            until=until,
        )

    # -- recall mode --

    async def open_recall(self, *, actor: str, role: str, reason: str = "", **fields) -> Recall:
        """Open a recall; from an alert, the alert is escalated in the same transaction."""
        if role not in recalling.LEADS:
            raise NotAllowed("only quality assurance, a supervisor or an admin opens a recall")
        moment, escalated = self.clock(), None
        alert_id = fields.pop("alert_id", "") or ""
        if alert_id:
            alert = await self.alert(alert_id)
            if alert.status == "new":
                alert = alerting.move(
                    alert, "acknowledged", actor=actor, reason="opened a recall", now=moment
                )
            escalated = alerting.move(
                alert, "escalated", actor=actor, reason=reason or "escalated to a recall", now=moment
            )
            # The alert names the product and the lot; the form may widen them, never lose them.
            fields["sku"] = fields.get("sku") or alert.signal.sku
            if alert.signal.lot_code and not fields.get("lot_codes"):
                fields["lot_codes"] = [alert.signal.lot_code]
        recall = recalling.open_recall(**fields, opened_by=actor, now=moment, alert_id=alert_id)
        await self.store.save_recall(recall, escalated)
        return recall

    async def recalls(self, status: str = "") -> list[Recall]:
        if status not in ("", "open", "closed"):
            raise recalling.InvalidRecall("status must be open or closed")
        return await self.store.recalls(status)

    async def recall(self, recall_id: str) -> Recall:
        found = await self.store.recall(recall_id)
        if found is None:
            raise RecallNotFound(f"no recall {recall_id}")
        return found

    async def close_recall(self, recall_id: str, *, actor: str, role: str, reason: str) -> Recall:
        if role not in recalling.LEADS:
            raise NotAllowed("only quality assurance, a supervisor or an admin closes a recall")
        closed = recalling.close(await self.recall(recall_id), actor=actor, reason=reason, now=self.clock())
        await self.store.save_recall(closed)
        return closed

    async def find_recalls(self, mentions: list[tuple[str, str]]) -> list[Recall]:
        """The open recalls covering any (sku, lot_code) a consumer bought or mentions."""
        opened = await self.store.recalls("open")
        return [r for r in opened if any(r.covers(sku, lot) for sku, lot in mentions)]

    async def recall_contacts(self, recall: Recall) -> int:
        """How many contacts insights holds about the recalled product and lots."""
        return sum(1 for f in await self.store.contacts() if recall.names(f.sku, f.lot_code))

    async def take_order(self, event_id: str, data: dict) -> int:
        """Fulfillment's order_placed into the buyers read model; how many purchases were new."""
        try:
            purchases = buying.purchases_of(data)
        except buying.InvalidOrder as exc:
            log.warning("dropping order_placed event %s: %s", event_id, exc)
            return 0
        return await self.store.put_purchases(purchases) if purchases else 0

    async def recall_tally(self, recall_id: str) -> buying.Tally:
        """The recall's live figures: contacts about the product and lots, and the product's buyers."""
        recall = await self.recall(recall_id)
        regions = tuple(r.upper() for r in recall.regions)
        return buying.Tally(
            recall.id, await self.recall_contacts(recall), await self.store.buyers(recall.sku, regions)
        )
