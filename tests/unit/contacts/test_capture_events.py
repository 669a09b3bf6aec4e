"""Case events are built straight from the case's JSON: they must still be exactly the contract's messages."""

from __future__ import annotations

from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf import json_format

from services.contacts.capture import case_event, creation_records

CASE = {
    "id": "5b0e5d0e-0000-4000-8000-000000000001",
    "reference": 42,
    "consumer_id": "",
    "channel": "phone",
    "direction": "inbound",
    "reporter": {"name": "", "email": "", "phone": ""},
    "product": {
        "sku": "OAT-500",
        "upc": "",
        "name": "Crunchy Oat Clusters",
        "lot_code": "L2419",
        "best_by": "",
    },
    "issue_code": "complaint.illness_injury",
    "severity": "critical",
    "status": "new",
    "action_codes": ["escalated"],
    "verbatim": "My son was sick after eating it",
    "call_ids": [],
    "created_at": "2026-11-23T05:00:00Z",
    "resolved_at": None,
    "not_in_the_contract": "dropped",
}


def test_event_data_parses_strictly_as_the_contract_message():
    event = case_event(
        "contact_escalated", pb.ContactEscalated, CASE, reason="Health and safety", actor="system"
    )
    message = json_format.ParseDict(event.data, pb.ContactEscalated())  # no unknown field tolerated
    assert (message.case.product.lot_code, message.reason) == ("L2419", "Health and safety")
    assert event.schema == "crs.contacts.v1.ContactEscalated"


def test_a_health_and_safety_capture_writes_creation_and_escalation():
    timeline, events = creation_records(CASE, actor="agent1", escalation_reason="Health and safety")
    assert [(e.kind, e.actor) for e in timeline] == [("created", "agent1"), ("escalated", "system")]
    assert [e.type for e in events] == ["contact_created", "contact_escalated"]
    assert timeline[0].changes["product"]["after"]["lot_code"] == "L2419"
