"""Every event casework puts on the bus, built here from what the case recorded (Case.events).

Events go into the outbox inside the unit of work that changed the case, so they leave only if it commits.
Their data is the contract's message in protobuf's JSON mapping, built straight from the case's JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import events_pb2 as events_pb
from crs.contacts.v1 import inbox_pb2 as inbox_pb
from crs.contacts.v1 import regulatory_pb2 as regulatory_pb

from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.domain.follow_ups import FollowUp
from services.contacts.casework.domain.records import Happened
from services.contacts.casework.domain.regulatory import ReportClock
from services.contacts.casework.shape import case_json, clock_pb, follow_up_pb
from services.runtime.events import Event

SOURCE = "contacts"
_SCHEMAS = {
    "contact_created": pb.ContactCreated,
    "contact_updated": pb.ContactUpdated,
    "contact_escalated": pb.ContactEscalated,
    "contact_resolved": pb.ContactResolved,
    "sla_breached": pb.SlaBreached,
}


class Notifier:
    def events_of(self, case: Case, book: CodeBook) -> list[Event]:
        """The events for what `case` recorded in this unit of work, in order."""
        shown = case_json(case, book) if case.events else {}
        return [self._event(case, shown, happened) for happened in case.events]

    def _event(self, case: Case, shown: dict, happened: Happened) -> Event:
        if happened.type == "sla_breached":
            data = {
                "contact_id": case.id,
                "reference": str(case.reference),
                "breach": happened.breach,
                "due_at": happened.due_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "issue_code": case.issue_code or "",
                "severity": case.severity or "",
                "assignee": case.assignee,
            }
        else:
            data = {"case": shown}
            if happened.type == "contact_updated":
                data.update(changed_fields=list(happened.changed_fields), actor=happened.actor)
            elif happened.type == "contact_escalated":
                data.update(reason=happened.reason, actor=happened.actor)
            elif happened.type == "contact_resolved":
                data["time_to_resolution_seconds"] = shown["time_to_resolution_seconds"]
        return Event(
            source=SOURCE,
            type=happened.type,
            data=data,
            schema=_SCHEMAS[happened.type].DESCRIPTOR.full_name,
            correlation_id=(case.all_call_ids or [None])[0],
        )

    def call_filed(
        self,
        *,
        contact_id: str,
        consumer_id: str | None,
        unidentified_caller_id: str | None,
        call_id: str,
        recording_key: str,
    ) -> Event:
        message = events_pb.CallContactAttached(
            contact_id=contact_id,
            consumer_id=consumer_id or "",
            unidentified_caller_id=unidentified_caller_id or "",
            call_id=call_id,
            recording_key=recording_key or "",
        )
        return Event.of(SOURCE, "call_contact_attached", message, correlation_id=call_id)

    def follow_up_due(self, follow_up: FollowUp) -> Event:
        """A follow-up's reminder to its assignee (crs.contacts.v1.FollowUpDue)."""
        return Event.of(SOURCE, "follow_up_due", inbox_pb.FollowUpDue(follow_up=follow_up_pb(follow_up)))

    def regulatory_deadline_near(self, case: Case, clock: ReportClock, now: datetime) -> Event:
        """Legal's warning that a case's report falls due soon (crs.contacts.v1.RegulatoryDeadlineNear)."""
        message = regulatory_pb.RegulatoryDeadlineNear(
            contact_id=case.id,
            reference=case.reference or 0,
            clock=clock_pb(clock, now),
            notify=clock.regime.notify,
            issue_code=case.issue_code or "",
            assignee=case.assignee,
        )
        return Event.of(SOURCE, "regulatory_deadline_near", message, correlation_id=case.id)
