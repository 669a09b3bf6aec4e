"""The events a case's changes put on the bus are exactly the contract's messages; the SLA sweep keeps its
own schedule, at its clock's time, through failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import events_pb2 as events_pb
from google.protobuf import json_format

from services.contacts.casework.domain.case import Case
from services.contacts.casework.notifier import Notifier
from services.contacts.casework.sweeper import Sweeper
from tests.unit.contacts.fakes import NOW, Clock, book, casework, ended_call

MESSAGES = {
    "contact_created": pb.ContactCreated,
    "contact_updated": pb.ContactUpdated,
    "contact_escalated": pb.ContactEscalated,
    "contact_resolved": pb.ContactResolved,
    "sla_breached": pb.SlaBreached,
    "call_contact_attached": events_pb.CallContactAttached,
}


async def test_every_event_parses_strictly_as_its_contract_message():
    service, db = casework()
    await service.file_call(ended_call("call-1"))
    case = await service.create(
        data={"issue_code": "complaint.illness_injury", "product": {"sku": "OAT-500", "lot_code": "L2419"}},
        actor="alice",
        call_id="call-1",
    )
    await service.change_status(case_id=case.id, status="resolved", note="", actor="bob")
    await service.sweep_sla(now=NOW + timedelta(days=30))  # resolved: nothing to flag
    await service.capture.close()
    open_case = await service.create(data={"issue_code": "question"}, actor="alice")
    await service.sweep_sla(now=NOW + timedelta(days=30))
    await service.capture.close()
    types = [e.type for e in db.outbox]
    assert types == [
        "call_contact_attached",
        "contact_created",
        "contact_escalated",
        "contact_updated",
        "contact_resolved",
        "contact_created",
        "sla_breached",
    ]
    for event in db.outbox:
        message = json_format.ParseDict(event.data, MESSAGES[event.type]())  # no unknown field tolerated
        assert event.schema in (None, MESSAGES[event.type].DESCRIPTOR.full_name)
        if event.type.startswith("contact_"):
            assert message.case.id == case.id or message.case.id == open_case.id
            assert event.correlation_id == ("call-1" if message.case.id == case.id else None)
    escalated = json_format.ParseDict(db.outbox[2].data, pb.ContactEscalated())
    assert (escalated.case.product.lot_code, escalated.actor) == ("L2419", "system")
    assert escalated.reason.startswith("Health and safety")
    breached = json_format.ParseDict(db.outbox[-1].data, pb.SlaBreached())
    assert (breached.contact_id, breached.breach) == (open_case.id, "first_response")
    assert breached.due_at.ToDatetime() == (NOW + timedelta(days=2)).replace(tzinfo=None)  # any issue: 2 days


def test_the_notifier_sends_what_happened_once():
    case = Case(id="5b0e5d0e-0000-4000-8000-000000000002", issue_code="question")
    case.assign("sam", actor="sam")
    notifier = Notifier()
    (event,) = notifier.events_of(case, book())
    assert (event.type, event.data["changed_fields"], event.data["actor"]) == (
        "contact_updated",
        ["assignee"],
        "sam",
    )
    assert notifier.events_of(case, book()) == []


async def test_the_sweeper_sweeps_at_its_clock_s_time_each_round_and_survives_a_failure():
    clock = Clock()
    seen = []
    sweeper: Sweeper | None = None

    async def sweep(*, now):
        seen.append(now)
        clock.now += timedelta(minutes=1)
        if len(seen) == 2:
            raise RuntimeError("database went away")
        if len(seen) == 4:
            sweeper.stop()
        return 1

    sweeper = Sweeper(sweep, interval=0, clock=clock)
    await asyncio.wait_for(sweeper.run(), timeout=5)
    assert seen == [NOW + timedelta(minutes=i) for i in range(4)]  # the failed round did not end the schedule
    assert sweeper.rounds == 4
