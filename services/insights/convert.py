"""Protobuf in and out for insights; the domain never sees a message."""

from __future__ import annotations

from crs.insights.v1 import events_pb2, insights_pb2

from services.insights.domain.alerts import Alert
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
