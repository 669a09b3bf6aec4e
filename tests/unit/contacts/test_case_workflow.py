"""The casework workflow through its use cases, against a fake unit of work: every transition, refused ones too."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services.contacts.casework.domain.case import Case
from services.contacts.casework.exceptions import InvalidInput, NotFound, Refused, StaleVersion
from tests.unit.contacts.fakes import NOW, Clock, FakeCases, FakeConsumers, casework, ended_call

PLASTIC = "complaint.quality.foreign_object.plastic"
CONSUMER = "5b0e5d0e-0000-4000-8000-000000000001"
# Today's workflow, written out: which stage may follow which (a status may change within its stage).
ALLOWED = {
    "new": {"in_progress", "awaiting_consumer", "awaiting_fulfillment", "resolved", "closed"},
    "in_progress": {"in_progress", "awaiting_consumer", "awaiting_fulfillment", "resolved"},
    "awaiting_consumer": {"awaiting_consumer", "in_progress", "awaiting_fulfillment", "resolved", "closed"},
    "awaiting_fulfillment": {"awaiting_fulfillment", "in_progress", "awaiting_consumer", "resolved"},
    "resolved": {"closed", "in_progress"},
    "closed": set(),
}
# A status in each stage other than the stage's own name, so a move within a stage can be tried too.
OTHER_STATUS = {"in_progress": "referred_qa"}


@pytest.fixture
async def service():
    made, db = casework()
    yield made, db
    await made.capture.close()


async def capture(service, **data):
    data.setdefault("issue_code", PLASTIC)
    return await service.create(data=data, actor="alice")


async def in_stage(service, db, stage: str) -> Case:
    """A captured case put straight into `stage` (by status of the same name)."""
    case = await capture(service)
    db.cases[case.id].status = stage
    return case


async def test_a_capture_is_coded_due_and_recorded(service):
    service, db = service
    case = await capture(
        service, verbatim="  bits of  plastic\n", product={"sku": "COC-500", "lot_code": "L1"}
    )
    assert (case.severity, case.status, case.created_by) == ("high", "new", "alice")
    assert case.verbatim == "  bits of  plastic\n"
    assert case.response_due_at == NOW + timedelta(days=1)  # the complaint policy, from the clock's now
    assert case.resolution_due_at == NOW + timedelta(days=7)
    assert case.summary == "Complaint \u203a Quality \u203a Foreign object \u203a Plastic — COC-500, lot L1"
    assert db.kinds(case.id) == [("created", "alice")]
    assert db.event_types() == ["contact_created"]


async def test_health_and_safety_is_critical_and_escalated_on_capture(service):
    service, db = service
    case = await capture(service, issue_code="complaint.illness_injury.illness", severity="low")
    assert (case.severity, case.escalated, case.action_codes) == ("critical", True, ["escalated"])
    assert case.escalation_reason == "Health and safety: Complaint \u203a Illness injury \u203a Illness"
    assert case.response_due_at == NOW + timedelta(hours=1)
    assert db.kinds(case.id) == [("created", "alice"), ("escalated", "system")]
    assert db.event_types() == ["contact_created", "contact_escalated"]


async def test_recoding_to_health_and_safety_escalates_once(service):
    service, db = service
    case = await capture(service)
    await service.update(
        case_id=case.id,
        data={"issue_code": "complaint.illness_injury"},
        fields_named={"issue_code"},
        actor="bob",
    )
    stored = db.cases[case.id]
    assert (stored.severity, stored.escalated, stored.assignee) == ("critical", True, "")
    assert db.kinds(case.id)[-2:] == [("updated", "bob"), ("escalated", "system")]
    await service.update(case_id=case.id, data={"notes": "more"}, fields_named={"notes"}, actor="bob")
    assert [k for k, _ in db.kinds(case.id)].count("escalated") == 1


@pytest.mark.parametrize("start", list(ALLOWED))
@pytest.mark.parametrize("target", list(ALLOWED))
async def test_every_stage_to_every_stage(service, start, target):
    service, db = service
    case = await in_stage(service, db, start)
    status = OTHER_STATUS.get(target, target) if start == target else target
    if start == target and status == target:
        # Moving to the very status a case has is never a transition.
        with pytest.raises(Refused, match=f"from {start} to {target}"):
            await service.change_status(case_id=case.id, status=status, note="", actor="bob")
        return
    events_before = len(db.outbox)
    if target == "awaiting_fulfillment" and target in ALLOWED[start]:
        # The workflow allows it, but fulfillment's events make that move (test_awaiting_fulfillment.py).
        with pytest.raises(Refused, match="awaits fulfillment by itself"):
            await service.change_status(case_id=case.id, status=status, note="", actor="bob")
        assert db.cases[case.id].status == start
    elif target in ALLOWED[start]:
        changed = await service.change_status(case_id=case.id, status=status, note="why", actor="bob")
        assert db.cases[case.id].status == status == changed.status
        assert db.kinds(case.id)[-1] == ("status", "bob")
        assert db.timeline[case.id][-1].note == "why"
    else:
        with pytest.raises(Refused, match="cannot go from"):
            await service.change_status(case_id=case.id, status=status, note="", actor="bob")
        assert db.cases[case.id].status == start  # nothing written
        assert len(db.outbox) == events_before


async def test_an_unknown_or_retired_status_names_the_field(service):
    service, _ = service
    case = await capture(service)
    for status in ("bogus", "retired", ""):
        with pytest.raises(InvalidInput, match="status"):
            await service.change_status(case_id=case.id, status=status, note="", actor="bob")


async def test_an_uncoded_contact_must_be_coded_before_its_status_moves(service):
    service, db = service
    await service.file_call(ended_call("c-uncoded"))
    (filed,) = db.cases.values()
    with pytest.raises(Refused, match="code the contact first"):
        await service.change_status(case_id=filed.id, status="in_progress", note="", actor="bob")


async def test_resolving_closing_and_reopening_keep_their_times(service):
    service, db = service
    clock = service.clock
    case = await capture(service)
    clock.now = NOW + timedelta(hours=3)
    resolved = await service.change_status(case_id=case.id, status="resolved", note="", actor="bob")
    assert resolved.resolved_at == resolved.first_response_at == NOW + timedelta(hours=3)
    assert db.event_types()[-2:] == ["contact_updated", "contact_resolved"]
    clock.now = NOW + timedelta(hours=5)
    reopened = await service.change_status(
        case_id=case.id, status="in_progress", note="called again", actor="bob"
    )
    assert reopened.resolved_at is None and reopened.first_response_at == NOW + timedelta(hours=3)
    await service.change_status(case_id=case.id, status="resolved", note="", actor="bob")
    closed = await service.change_status(case_id=case.id, status="closed", note="", actor="bob")
    assert closed.closed_at == NOW + timedelta(hours=5) and closed.resolved_at == NOW + timedelta(hours=5)
    assert db.event_types().count("contact_resolved") == 2  # closing a resolved case resolves nothing new


async def test_closing_an_unresolved_case_resolves_it_then(service):
    service, db = service
    case = await in_stage(service, db, "awaiting_consumer")
    closed = await service.change_status(case_id=case.id, status="closed", note="", actor="bob")
    assert closed.resolved_at == closed.closed_at == NOW
    assert db.event_types()[-1] == "contact_resolved"


async def test_only_a_response_action_stops_the_first_response_clock(service):
    service, db = service
    clock = service.clock
    case = await capture(service)
    clock.now = NOW + timedelta(minutes=10)
    coupon = await service.add_action(case_id=case.id, action_code="coupon_sent", note="", actor="bob")
    assert coupon.first_response_at is None and coupon.action_codes == ["coupon_sent"]
    assert db.timeline[case.id][-1].note == "Coupon sent"  # the action's label when no note is given
    clock.now = NOW + timedelta(minutes=20)
    replied = await service.add_action(case_id=case.id, action_code="replied", note="Emailed", actor="bob")
    assert replied.first_response_at == NOW + timedelta(minutes=20)
    clock.now = NOW + timedelta(minutes=30)
    again = await service.add_action(case_id=case.id, action_code="replied", note="", actor="bob")
    assert again.first_response_at == NOW + timedelta(minutes=20)
    with pytest.raises(InvalidInput, match="action_code"):
        await service.add_action(case_id=case.id, action_code="nope", note="", actor="bob")


async def test_escalation_needs_a_reason_an_open_case_and_no_second_queueing(service):
    service, db = service
    case = await capture(service)
    with pytest.raises(InvalidInput, match="reason"):
        await service.escalate(case_id=case.id, reason="  ", actor="bob")
    escalated = await service.escalate(case_id=case.id, reason="Wants a manager", actor="bob")
    assert (escalated.escalated, escalated.escalation_reason, escalated.action_codes) == (
        True,
        "Wants a manager",
        ["escalated"],
    )
    with pytest.raises(Refused, match="already in the supervisors' queue"):
        await service.escalate(case_id=case.id, reason="again", actor="bob")
    await service.assign(case_id=case.id, assignee="sam", actor="sam")
    back = await service.escalate(case_id=case.id, reason="Sam is away", actor="bob")
    assert back.assignee == "" and back.action_codes == ["escalated"]  # back in the queue, one action
    for stage in ("resolved", "closed"):
        done = await in_stage(service, db, stage)
        with pytest.raises(Refused, match="only an open case"):
            await service.escalate(case_id=done.id, reason="late", actor="bob")


async def test_assignment_changes_are_recorded_and_a_repeat_is_not(service):
    service, db = service
    case = await capture(service)
    await service.assign(case_id=case.id, assignee="sam", actor="sam")
    assert db.timeline[case.id][-1].changes == {"assignee": {"before": "", "after": "sam"}}
    commits = db.commits
    await service.assign(case_id=case.id, assignee="sam", actor="sam")
    assert db.commits == commits and db.kinds(case.id).count(("assigned", "sam")) == 1
    with pytest.raises(InvalidInput, match="assignee"):
        await service.assign(case_id=case.id, assignee="sam smith", actor="sam")


async def test_a_call_is_linked_once(service):
    service, db = service
    case = await capture(service)
    linked = await service.link_call(case_id=case.id, call_id="call-1", actor="bob")
    assert linked.call_ids == ["call-1"]
    await service.link_call(case_id=case.id, call_id="call-1", actor="bob")
    assert db.kinds(case.id).count(("call_linked", "bob")) == 1
    with pytest.raises(InvalidInput, match="call_id"):
        await service.link_call(case_id=case.id, call_id="has space", actor="bob")


async def test_a_stale_version_is_refused_and_nothing_is_written(service):
    service, db = service
    case = await capture(service)
    await service.update(case_id=case.id, data={"notes": "one"}, fields_named={"notes"}, actor="bob")
    with pytest.raises(StaleVersion, match="reload"):
        await service.update(
            case_id=case.id,
            data={"notes": "two"},
            fields_named={"notes"},
            actor="bob",
            expected_version=case.version,
        )
    assert db.cases[case.id].notes == "one"


async def test_an_update_names_what_it_may_not_change_and_records_only_real_changes(service):
    service, db = service
    case = await capture(service, product={"sku": "A", "lot_code": "L1"})
    with pytest.raises(InvalidInput, match="update_mask: cannot change status"):
        await service.update(case_id=case.id, data={"status": "closed"}, fields_named={"status"}, actor="bob")
    with pytest.raises(InvalidInput, match="occurred_at: when did the contact happen"):
        await service.update(case_id=case.id, data={}, fields_named={"occurred_at"}, actor="bob")
    with pytest.raises(InvalidInput, match="update_mask: name the fields"):
        await service.update(case_id=case.id, data={}, fields_named=set(), actor="bob")
    events = len(db.outbox)
    await service.update(case_id=case.id, data={"notes": ""}, fields_named={"notes"}, actor="bob")
    assert len(db.outbox) == events  # nothing changed, nothing said
    await service.update(
        case_id=case.id,
        data={"product": {"sku": "A", "lot_code": "L2"}},
        fields_named={"product"},
        actor="bob",
    )
    changes = db.timeline[case.id][-1].changes
    assert changes["lot_code"] == {"before": "L1", "after": "L2"} and "product_sku" not in changes
    assert db.outbox[-1].data["changed_fields"] == ["lot_code", "summary"]


async def test_a_capture_for_an_unknown_consumer_is_refused(service):
    service, db = service
    with pytest.raises(InvalidInput, match="consumer_id: no consumer has this id"):
        await capture(service, consumer_id=CONSUMER)
    assert db.cases == {} and db.outbox == []


async def test_unknown_and_malformed_case_ids(service):
    service, _ = service
    with pytest.raises(NotFound):
        await service.escalate(case_id=CONSUMER, reason="x", actor="bob")
    with pytest.raises(InvalidInput, match="id"):
        await service.escalate(case_id="nope", reason="x", actor="bob")


async def test_a_filed_call_is_an_uncoded_contact_that_its_capture_codes():
    consumers = FakeConsumers(known={CONSUMER}, owners={"+16145550123": CONSUMER})
    service, db = casework(consumers=consumers)
    contact_id = await service.file_call(ended_call("call-9"))
    filed = db.cases[contact_id]
    assert (filed.coded, filed.consumer_id, filed.summary) == (False, CONSUMER, "Inbound call, 42 s")
    assert consumers.contacted_at == [(CONSUMER, NOW - timedelta(minutes=5))]
    assert await service.file_call(ended_call("call-9")) is None  # the same call again
    assert db.event_types() == ["call_contact_attached"]
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice", call_id="call-9")
    assert case.id == contact_id and case.consumer_id == CONSUMER  # the filed contact became the case
    assert case.occurred_at == NOW - timedelta(minutes=5) and case.all_call_ids == ["call-9"]
    assert db.kinds(case.id) == [("created", "alice")]


async def test_a_case_captured_before_its_call_is_filed_links_the_call():
    service, db = casework()
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice", call_id="call-early")
    assert case.call_ids == ["call-early"] and case.call_id is None
    assert db.timeline[case.id][0].changes["call_ids"] == {"before": None, "after": ["call-early"]}


async def test_a_withheld_or_unmatched_call_is_filed_on_an_unidentified_caller():
    service, db = casework()
    await service.file_call(ended_call("w1", number="", withheld=True))
    await service.file_call(ended_call("w2", number="", withheld=True))
    await service.file_call(ended_call("u1", number="+16145550999"))
    assert sorted(db.callers) == ["+16145550999", "withheld"]  # both withheld calls on one caller
    assert all(c.consumer_id is None for c in db.cases.values())


async def test_the_sla_sweep_flags_the_first_missed_deadline_once():
    clock = Clock()
    service, db = casework(clock=clock)
    late = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    answered = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    await service.add_action(case_id=answered.id, action_code="replied", note="", actor="bob")
    done = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    await service.change_status(case_id=done.id, status="resolved", note="", actor="bob")
    assert await service.sweep_sla(now=NOW + timedelta(hours=23)) == 0
    assert await service.sweep_sla(now=NOW + timedelta(days=2)) == 1
    assert db.cases[late.id].sla_breach == "first_response"
    assert db.timeline[late.id][-1].note == "first response was due 2026-11-24 09:00 UTC"
    assert await service.sweep_sla(now=NOW + timedelta(days=8)) == 1
    assert db.cases[answered.id].sla_breach == "resolution" and db.cases[done.id].sla_breach == ""
    assert await service.sweep_sla(now=NOW + timedelta(days=30)) == 0  # each case flagged once
    breached = [e.data for e in db.outbox if e.type == "sla_breached"]
    assert [(d["contact_id"], d["breach"]) for d in breached] == [
        (late.id, "first_response"),
        (answered.id, "resolution"),
    ]
    await service.capture.close()


async def test_a_failed_use_case_leaves_nothing_behind():
    service, db = casework()
    case = await service.create(data={"issue_code": PLASTIC}, actor="alice")
    await service.capture.close()
    before = (len(db.outbox), len(db.timeline[case.id]), db.commits)
    with pytest.raises(Refused):
        await service.change_status(case_id=case.id, status="new", note="", actor="bob")
    assert (len(db.outbox), len(db.timeline[case.id]), db.commits) == before


async def test_captures_arriving_together_share_one_commit():
    service, db = casework()
    cases = await asyncio.gather(
        *(
            service.create(data={"issue_code": PLASTIC, "verbatim": f"case {i}"}, actor="alice")
            for i in range(10)
        )
    )
    await service.capture.close()
    assert db.commits == 1
    assert sorted(c.reference for c in cases) == list(range(1, 11))
    assert [c.verbatim for c in cases] == [f"case {i}" for i in range(10)]  # each caller gets its own case
    assert db.event_types() == ["contact_created"] * 10 and all(db.kinds(c.id) for c in cases)


async def test_a_batch_that_fails_is_written_one_capture_at_a_time_and_the_bad_one_fails_alone(monkeypatch):
    service, db = casework()
    refused_once = {"flag": True}
    add = FakeCases.add

    async def add_refusing_batches(self, cases):
        if len(cases) > 1 and refused_once.pop("flag", False):
            raise RuntimeError("the batch statement failed")
        if any(c.verbatim == "unstorable" for c in cases):
            raise InvalidInput("verbatim: cannot be stored")
        await add(self, cases)

    monkeypatch.setattr(FakeCases, "add", add_refusing_batches)
    results = await asyncio.gather(
        *(
            service.create(data={"issue_code": PLASTIC, "verbatim": text}, actor="alice")
            for text in ["one", "unstorable", "three"]
        ),
        return_exceptions=True,
    )
    await service.capture.close()
    assert [type(r).__name__ for r in results] == ["Case", "InvalidInput", "Case"]
    assert sorted(c.verbatim for c in db.cases.values()) == ["one", "three"]
    assert db.event_types() == ["contact_created", "contact_created"]  # nothing of the failed batch went out
    assert all(db.kinds(c.id) == [("created", "alice")] for c in db.cases.values())
