"""Protobuf in and out for insights; the domain never sees a message."""

from __future__ import annotations

import math
from dataclasses import replace

from crs.insights.v1 import events_pb2, insights_pb2

from services.insights.domain import reports, voice
from services.insights.domain.alerts import Alert
from services.insights.domain.facts import ContactFact
from services.insights.domain.recalls import Recall
from services.insights.domain.sales import CpmuRow
from services.runtime.events import Event

SOURCE = "insights"


def _time(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def alert_to_pb(alert: Alert) -> insights_pb2.Alert:
    s = alert.signal
    return insights_pb2.Alert(
        id=alert.id,
        sku=s.sku,
        lot_code=s.lot_code,
        region=s.region,
        issue_code=s.issue_code,
        method=s.method,
        observed=s.observed,
        expected=s.expected,
        score=s.score,
        status=alert.status,
        contact_ids=list(s.contact_ids),
        first_raised_at=_time(alert.first_raised_at),
        period_start=s.period_start.isoformat(),
        period_end=s.period_end.isoformat(),
        history=[
            insights_pb2.Transition(status=t.status, actor=t.actor, reason=t.reason, at=_time(t.at))
            for t in alert.history
        ],
    )


def alert_raised(alert: Alert) -> Event:
    return Event.of(SOURCE, "alert_raised", events_pb2.AlertRaised(alert=alert_to_pb(alert)))


def cpmu_to_pb(row: CpmuRow) -> insights_pb2.CpmuRow:
    return insights_pb2.CpmuRow(**vars(row))


def sales_row_from_pb(row: insights_pb2.SalesRow) -> dict:
    return {
        "sku": row.sku,
        "lot_code": row.lot_code,
        "region": row.region,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "units": str(row.units),
    }


def volumes_to_pb(found: voice.Volumes) -> insights_pb2.GetVolumesResponse:
    return insights_pb2.GetVolumesResponse(
        weeks=[w.isoformat() for w in found.weeks],
        keys=found.keys,
        points=[
            insights_pb2.VolumePoint(week=p.week.isoformat(), key=p.key, contacts=p.contacts)
            for p in found.points
        ],
        keys_left_off=found.keys_left_off,
    )


def rising_to_pb(row: voice.Rising) -> insights_pb2.RisingIssue:
    return insights_pb2.RisingIssue(
        sku=row.sku,
        region=row.region,
        issue_code=row.issue_code,
        observed=row.observed,
        expected=row.expected,
        score=row.score,
        period_start=row.start.isoformat(),
        period_end=row.end.isoformat(),
        alarming=row.alarming,
    )


def trend_to_pb(trend: voice.CpmuTrend) -> insights_pb2.CpmuTrend:
    return insights_pb2.CpmuTrend(
        sku=trend.sku,
        no_sales=trend.no_sales,
        points=[insights_pb2.CpmuPoint(**{**vars(p), "week": p.week.isoformat()}) for p in trend.points],
    )


def slice_contact_to_pb(fact: ContactFact) -> insights_pb2.SliceContact:
    return insights_pb2.SliceContact(
        contact_id=fact.contact_id,
        sku=fact.sku,
        lot_code=fact.lot_code,
        region=fact.region,
        issue_code=fact.issue_code,
        channel=fact.channel,
        received_on=fact.received_on.isoformat(),
    )


def recall_to_pb(recall: Recall, contacts: int = 0) -> insights_pb2.Recall:
    return insights_pb2.Recall(
        id=recall.id,
        sku=recall.sku,
        lot_codes=list(recall.lot_codes),
        regions=list(recall.regions),
        title=recall.title,
        script=list(recall.script),
        consumer_message=recall.consumer_message,
        alert_id=recall.alert_id,
        status=recall.status,
        opened_by=recall.opened_by,
        opened_at=_time(recall.opened_at),
        closed_by=recall.closed_by,
        closed_at=_time(recall.closed_at) if recall.closed_at else "",
        close_reason=recall.close_reason,
        contacts=contacts,
    )


def recall_event(recall: Recall) -> Event:
    """recall_opened while open, recall_closed once closed: what the outreach campaign needs, no more."""
    if recall.open:
        message = events_pb2.RecallOpened(
            recall_id=recall.id,
            sku=recall.sku,
            lot_codes=list(recall.lot_codes),
            regions=list(recall.regions),
            title=recall.title,
            opened_by=recall.opened_by,
            opened_at=_time(recall.opened_at),
            consumer_message=recall.consumer_message,
        )
        return _every_field(Event.of(SOURCE, "recall_opened", message, correlation_id=recall.id), message)
    message = events_pb2.RecallClosed(
        recall_id=recall.id,
        sku=recall.sku,
        closed_by=recall.closed_by,
        closed_at=_time(recall.closed_at),
        reason=recall.close_reason,
    )
    return _every_field(Event.of(SOURCE, "recall_closed", message, correlation_id=recall.id), message)


def _every_field(event: Event, message) -> Event:
    """Empty lists and strings stay on the wire: a recall of every lot says so with lot_codes []."""
    data = {f.name: getattr(message, f.name) for f in message.DESCRIPTOR.fields}
    return replace(event, data={k: list(v) if not isinstance(v, str) else v for k, v in data.items()})


def report_to_pb(report: reports.Report, since: str = "", until: str = "") -> insights_pb2.Report:
    """The report as its declaration shapes it; a figure with no value (a median of no cases) is NaN."""
    return insights_pb2.Report(
        name=report.name,
        title=report.title,
        by=report.by,
        columns=list(report.columns),
        chart=list(report.chart),
        rows=[
            insights_pb2.ReportRow(key=r.key, values=[math.nan if v is None else float(v) for v in r.values])
            for r in report.rows
        ],
        since=since,
        until=until,
    )


def report_kinds_to_pb() -> insights_pb2.ListReportsResponse:
    return insights_pb2.ListReportsResponse(
        reports=[
            insights_pb2.ReportKind(
                name=name, title=kind.title, columns=list(kind.columns), chart=list(kind.chart)
            )
            for name, kind in reports.REPORTS.items()
        ],
        groupings=[g for g in reports.GROUPINGS if g],
    )
