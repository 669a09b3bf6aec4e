"""A case awaits fulfillment while a fulfillment for it is open, from fulfillment's events, against a fake
unit of work: back to its own status when the last one ends, whatever order the events come in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.contacts.casework.domain.fulfillments import FulfillmentChange
from services.contacts.casework.exceptions import Forbidden, InvalidInput, NotFound, Refused
from tests.unit.contacts.fakes import NOW, Clock, casework, ended_call

PLASTIC = "complaint.quality.foreign_object.plastic"


@pytest.fixture
async def service():
    made, db = casework()
    yield made, db
    await made.capture.close()


def change(case_id: str, state: str, fulfillment_id: str, kind: str = "coupon", actor: str = "ada"):
    return FulfillmentChange(
        event_id=str(uuid.uuid4()),
        fulfillment_id=fulfillment_id,
        case_id=case_id,
        kind=kind,
        state=state,
        actor=actor,
    )


def a_fulfillment() -> str:
    return str(uuid.uuid4())


async def captured(service, status: str | None = None):
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    if status:
        case = await service.change_status(case_id=case.id, status=status, note="", actor="alice")
    return case


async def test_a_requested_fulfillment_makes_the_case_await_it_and_the_last_one_ending_brings_it_back(
    service,
):
    service, db = service
    case = await captured(service, "referred_qa")
    coupon, letter = a_fulfillment(), a_fulfillment()

    assert await service.fulfillment_changed(change(case.id, "requested", coupon))
    waiting = db.cases[case.id]
    assert waiting.status == "awaiting_fulfillment"
    assert db.timeline[case.id][-1].kind == "status"
    assert db.timeline[case.id][-1].actor == "system"
    assert db.timeline[case.id][-1].changes == {
        "status": {"before": "referred_qa", "after": "awaiting_fulfillment"}
    }
    assert db.timeline[case.id][-1].note == "Waiting on the coupon (requested, ada)"
    assert db.event_types()[-1] == "contact_updated"

    assert await service.fulfillment_changed(change(case.id, "requested", letter, kind="letter"))
    assert await service.fulfillment_changed(change(case.id, "approved", coupon))
    assert await service.fulfillment_changed(change(case.id, "delivered", coupon))
    assert db.cases[case.id].status == "awaiting_fulfillment"  # the letter is still owed
    assert sorted(f.kind for f in db.cases[case.id].open_fulfillments.values()) == ["letter"]

    assert await service.fulfillment_changed(change(case.id, "shipped", letter, kind="letter"))
    back = db.cases[case.id]
    assert back.status == "referred_qa"
    assert back.open_fulfillments == {}
    assert db.timeline[case.id][-1].changes == {
        "status": {"before": "awaiting_fulfillment", "after": "referred_qa"}
    }
    assert db.timeline[case.id][-1].note == "No fulfillment open any more: the letter (shipped, ada)"
    statuses = [e.changes["status"]["after"] for e in db.timeline[case.id] if e.kind == "status"]
    assert statuses == ["referred_qa", "awaiting_fulfillment", "referred_qa"]


@pytest.mark.parametrize("end", ["delivered", "cancelled", "failed"])
async def test_every_ending_brings_the_case_back(service, end):
    service, db = service
    case = await captured(service, "awaiting_consumer")
    refund = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "awaiting_approval", refund, kind="refund"))
    assert db.cases[case.id].status == "awaiting_fulfillment"
    await service.fulfillment_changed(change(case.id, end, refund, kind="refund"))
    assert db.cases[case.id].status == "awaiting_consumer"


async def test_a_new_case_waits_without_its_first_response_clock_stopping(service):
    service, db = service
    case = await captured(service)
    coupon = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "requested", coupon))
    waiting = db.cases[case.id]
    assert waiting.status == "awaiting_fulfillment"
    assert waiting.first_response_at is None  # no one answered the consumer by it
    assert (waiting.response_due_at, waiting.resolution_due_at) == (
        NOW + timedelta(days=1),
        NOW + timedelta(days=7),
    )
    await service.fulfillment_changed(change(case.id, "delivered", coupon))
    assert db.cases[case.id].status == "new"


async def test_a_redelivered_event_changes_nothing(service):
    service, db = service
    case = await captured(service, "in_progress")
    coupon = a_fulfillment()
    requested = change(case.id, "requested", coupon)
    assert await service.fulfillment_changed(requested)
    version, entries, events = db.cases[case.id].version, len(db.timeline[case.id]), len(db.outbox)
    assert not await service.fulfillment_changed(requested)
    assert not await service.fulfillment_changed(change(case.id, "requested", coupon))  # the same state again
    assert (db.cases[case.id].version, len(db.timeline[case.id]), len(db.outbox)) == (
        version,
        entries,
        events,
    )


async def test_a_delivered_arriving_before_its_requested_never_makes_the_case_wait(service):
    service, db = service
    case = await captured(service, "in_progress")
    coupon = a_fulfillment()
    assert await service.fulfillment_changed(change(case.id, "delivered", coupon))
    assert not await service.fulfillment_changed(change(case.id, "requested", coupon))
    assert not await service.fulfillment_changed(change(case.id, "in_progress", coupon))
    assert db.cases[case.id].status == "in_progress"
    assert [e.kind for e in db.timeline[case.id]] == ["created", "status"]  # only alice's move


async def test_later_states_arriving_first_make_the_case_wait_once(service):
    service, db = service
    case = await captured(service, "in_progress")
    coupon = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "in_progress", coupon))
    assert not await service.fulfillment_changed(change(case.id, "approved", coupon))
    assert not await service.fulfillment_changed(change(case.id, "requested", coupon))
    await service.fulfillment_changed(change(case.id, "delivered", coupon))
    statuses = [e.changes["status"]["after"] for e in db.timeline[case.id] if e.kind == "status"]
    assert statuses == ["in_progress", "awaiting_fulfillment", "in_progress"]


async def test_a_step_that_moves_no_status_is_kept_without_a_new_version(service):
    service, db = service
    case = await captured(service, "in_progress")
    coupon = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "requested", coupon))
    version = db.cases[case.id].version
    assert await service.fulfillment_changed(change(case.id, "approved", coupon))
    assert db.cases[case.id].version == version  # an agent's open edit does not go stale for it
    assert db.cases[case.id].fulfillments[coupon].state == "approved"


async def test_an_agent_cannot_resolve_while_one_is_open_and_a_supervisor_can(service):
    service, db = service
    case = await captured(service, "in_progress")
    refund = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "awaiting_approval", refund, kind="refund"))
    with pytest.raises(Forbidden, match=r"still owed a refund \(awaiting approval\).*only a supervisor"):
        await service.change_status(
            case_id=case.id, status="resolved", note="", actor="alice", may_resolve_waiting=False
        )
    assert db.cases[case.id].status == "awaiting_fulfillment"
    resolved = await service.change_status(
        case_id=case.id, status="resolved", note="goodwill agreed", actor="sam", may_resolve_waiting=True
    )
    assert resolved.status == "resolved"
    await service.fulfillment_changed(change(case.id, "delivered", refund, kind="refund"))
    assert db.cases[case.id].status == "resolved"  # a person's resolution stands


async def test_a_person_neither_enters_nor_leaves_awaiting_fulfillment_while_one_is_open(service):
    service, db = service
    case = await captured(service, "in_progress")
    with pytest.raises(Refused, match="awaits fulfillment by itself"):
        await service.change_status(case_id=case.id, status="awaiting_fulfillment", note="", actor="alice")
    await service.fulfillment_changed(change(case.id, "requested", a_fulfillment(), kind="replacement"))
    with pytest.raises(Refused, match=r"awaits a replacement \(requested\); it goes back to in_progress"):
        await service.change_status(case_id=case.id, status="awaiting_consumer", note="", actor="alice")
    assert db.cases[case.id].status == "awaiting_fulfillment"


async def test_a_case_reopened_while_one_is_open_waits_again(service):
    service, db = service
    case = await captured(service, "in_progress")
    sample = a_fulfillment()
    await service.fulfillment_changed(change(case.id, "requested", sample, kind="sample"))
    await service.change_status(case_id=case.id, status="resolved", note="", actor="sam")
    await service.change_status(case_id=case.id, status="in_progress", note="she called again", actor="sam")
    assert db.cases[case.id].status == "awaiting_fulfillment"
    assert db.timeline[case.id][-1].note == "Reopened while waiting on a sample (requested)"
    await service.fulfillment_changed(change(case.id, "shipped", sample, kind="sample"))
    assert db.cases[case.id].status == "in_progress"


async def test_a_resolved_case_stays_resolved_and_keeps_the_fulfillment(service):
    service, db = service
    case = await captured(service, "resolved")
    coupon = a_fulfillment()
    assert await service.fulfillment_changed(change(case.id, "requested", coupon))
    assert db.cases[case.id].status == "resolved"
    assert list(db.cases[case.id].open_fulfillments) == [coupon]


async def test_the_sla_runs_on_while_the_case_waits():
    clock = Clock()
    service, db = casework(clock=clock)
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    await service.change_status(case_id=case.id, status="in_progress", note="", actor="alice")
    await service.fulfillment_changed(change(case.id, "requested", a_fulfillment()))
    assert await service.sweep_sla(now=NOW + timedelta(days=8)) == 1
    assert (db.cases[case.id].status, db.cases[case.id].sla_breach) == ("awaiting_fulfillment", "resolution")
    await service.capture.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("state", "lost", "state: 'lost' is not a fulfillment state"),
        ("kind", "hamper", "kind: 'hamper' is not a kind of fulfillment"),
        ("fulfillment_id", "F-1", "fulfillment_id: 'F-1' is not an id"),
        ("case_id", "", "case_id: which case?"),
        ("event_id", "", "event_id: which event?"),
    ],
)
async def test_a_malformed_event_is_refused_by_name(service, field, value, message):
    service, db = service
    case = await captured(service)
    bad = change(case.id, "requested", a_fulfillment())
    with pytest.raises(InvalidInput, match=message):
        await service.fulfillment_changed(FulfillmentChange(**{**vars(bad), field: value}))
    assert db.cases[case.id].status == "new"


async def test_an_event_for_an_unknown_case_is_not_found(service):
    service, _ = service
    with pytest.raises(NotFound):
        await service.fulfillment_changed(change(str(uuid.uuid4()), "requested", a_fulfillment()))


async def test_an_uncoded_contact_keeps_the_fulfillment_and_waits_once_it_is_coded(service):
    service, db = service
    contact_id = await service.file_call(ended_call("call-77"))
    letter = a_fulfillment()
    assert await service.fulfillment_changed(change(contact_id, "requested", letter, kind="letter"))
    assert db.cases[contact_id].status == "new"  # an uncoded contact has no workflow yet
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice", call_id="call-77")
    assert case.id == contact_id and case.status == "awaiting_fulfillment"
    assert db.timeline[case.id][-1].note == "Coded while waiting on a letter (requested)"
    await service.fulfillment_changed(change(contact_id, "shipped", letter, kind="letter"))
    assert db.cases[contact_id].status == "new"
