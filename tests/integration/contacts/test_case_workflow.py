"""Casework over gRPC against the real service: capture, workflow, escalation, timeline, codes, events."""

from __future__ import annotations

import json

import aio_pika
import grpc
from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask

from services.contacts.casework.domain.codes import SEPARATOR
from tests.integration.contacts.case_support import Caller, ids
from tests.support.wait import async_wait_for

Code = grpc.StatusCode


async def test_a_captured_complaint_is_coded_with_its_product_and_lot(agent):
    case = await agent.capture(
        channel="phone",
        product=pb.Product(
            sku="COC-500",
            name="Crunchy Oat Clusters 500 g",
            lot_code="L2419",
            best_by="2025-03-01",
            purchase_store="FreshMart",
            purchase_location="Columbus, OH",
        ),
        verbatim="  There was a   sharp bit of plastic in my bowl!\n",
    )
    assert case.issue_path == SEPARATOR.join(["Complaint", "Quality", "Foreign object", "Plastic"])
    assert case.severity == "high"  # the code's severity
    assert (case.status, case.stage) == ("new", "new")
    assert (case.product.lot_code, case.product.best_by) == ("L2419", "2025-03-01")
    assert case.verbatim == "  There was a   sharp bit of plastic in my bowl!\n"  # kept exactly
    assert case.HasField("response_due_at") and case.HasField("resolution_due_at")
    assert case.created_by == "alice"  # the principal, not a field of the request
    again = await agent.GetCase(pb.GetCaseRequest(id=case.id))
    assert again.verbatim == case.verbatim


async def test_the_workflow_refuses_transitions_it_does_not_allow(agent):
    case = await agent.capture()
    bogus = await agent.refused("ChangeStatus", pb.ChangeStatusRequest(id=case.id, status="bogus"))
    assert bogus.code() == Code.INVALID_ARGUMENT and "status" in bogus.details()
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="resolved"))
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="closed"))
    final = await agent.refused("ChangeStatus", pb.ChangeStatusRequest(id=case.id, status="in_progress"))
    assert final.code() == Code.FAILED_PRECONDITION and "closed" in final.details()


async def test_first_response_and_resolution_times_follow_from_the_events(agent):
    case = await agent.capture(issue_code="question.where_to_buy")
    assert not case.HasField("first_response_at")
    replied = await agent.AddAction(
        pb.AddActionRequest(id=case.id, action_code="replied", note="Emailed stores")
    )
    assert replied.HasField("first_response_at") and replied.time_to_first_response_seconds >= 0
    await agent.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="awaiting_consumer"))
    resolved = await agent.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="resolved"))
    assert resolved.HasField("resolved_at") and resolved.time_to_resolution_seconds > 0
    assert resolved.first_response_at == replied.first_response_at
    reopened = await agent.ChangeStatus(
        pb.ChangeStatusRequest(id=case.id, status="in_progress", note="called again")
    )
    assert not reopened.HasField("resolved_at")


async def test_escalation_goes_to_the_supervisor_queue_and_the_timeline_tells_every_step(agent, supervisor):
    case = await agent.capture(
        product=pb.Product(sku="FL-1L", lot_code="B77"), issue_code="complaint.packaging.leaking"
    )
    cid = case.id
    no_reason = await agent.refused("Escalate", pb.EscalateRequest(id=cid, reason=""))
    assert no_reason.code() == Code.INVALID_ARGUMENT and "reason" in no_reason.details()
    await agent.Escalate(pb.EscalateRequest(id=cid, reason="Consumer asks for a manager"))
    assert cid in ids(await supervisor.GetQueue(pb.GetQueueRequest(limit=200)))
    taken = await supervisor.Assign(pb.AssignRequest(id=cid, assignee="sam"))
    assert taken.assignee == "sam"
    handed = await agent.refused("Assign", pb.AssignRequest(id=cid, assignee="bob"))
    assert handed.code() == Code.PERMISSION_DENIED  # an agent takes cases, does not hand them out
    await supervisor.AddAction(pb.AddActionRequest(id=cid, action_code="coupon_sent"))
    await supervisor.ChangeStatus(
        pb.ChangeStatusRequest(id=cid, status="resolved", note="Coupon and apology")
    )
    assert cid not in ids(await supervisor.GetQueue(pb.GetQueueRequest(limit=200)))
    events = (await agent.GetTimeline(pb.GetTimelineRequest(id=cid))).events
    assert [(e.kind, e.actor) for e in events] == [
        ("created", "alice"),
        ("escalated", "alice"),
        ("assigned", "sam"),
        ("action", "sam"),
        ("status", "sam"),
    ]
    assert [(c.field, c.before, c.after) for c in events[2].changes] == [("assignee", '""', '"sam"')]
    status = next(c for c in events[4].changes if c.field == "status")
    assert (status.before, status.after) == ('"new"', '"resolved"')
    assert events[4].note == "Coupon and apology"


async def test_the_queue_puts_the_most_urgent_case_first(agent, supervisor):
    low = await agent.capture(issue_code="complaint.packaging.damaged")
    await agent.Escalate(pb.EscalateRequest(id=low.id, reason="Wants a manager"))
    glass = await agent.capture(issue_code="complaint.quality.foreign_object.glass")  # escalates itself
    queue = ids(await supervisor.GetQueue(pb.GetQueueRequest(limit=200)))
    assert queue.index(glass.id) < queue.index(low.id)


async def test_illness_is_critical_and_escalated_at_once(agent, supervisor):
    case = await agent.capture(
        issue_code="complaint.illness_injury.illness",
        severity="low",
        verbatim="My son was sick after eating it.",
    )
    assert case.severity == "critical" and case.escalated
    assert "Health and safety" in case.escalation_reason
    assert case.id in ids(await supervisor.GetQueue(pb.GetQueueRequest(limit=200)))
    kinds = [e.kind for e in (await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))).events]
    assert kinds == ["created", "escalated"]


async def test_an_update_records_before_and_after_and_rejects_a_stale_version(agent):
    case = await agent.capture(product=pb.Product(sku="COC-500", lot_code="L1"))
    updated = await agent.UpdateCase(
        pb.UpdateCaseRequest(
            case=pb.Case(id=case.id, product=pb.Product(sku="COC-500", lot_code="L2")),
            update_mask=FieldMask(paths=["product"]),
            expected_version=case.version,
        )
    )
    assert updated.product.lot_code == "L2"
    stale = await agent.refused(
        "UpdateCase",
        pb.UpdateCaseRequest(
            case=pb.Case(id=case.id, notes="x"),
            update_mask=FieldMask(paths=["notes"]),
            expected_version=case.version,
        ),
    )
    assert stale.code() == Code.ABORTED and "reload" in stale.details()
    events = (await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))).events
    lot = next(c for c in events[-1].changes if c.field == "lot_code")
    assert (lot.before, lot.after) == ('"L1"', '"L2"')
    unwritable = await agent.refused(
        "UpdateCase",
        pb.UpdateCaseRequest(
            case=pb.Case(id=case.id, status="closed"), update_mask=FieldMask(paths=["status"])
        ),
    )
    assert unwritable.code() == Code.INVALID_ARGUMENT and "status" in unwritable.details()


async def test_codes_are_deactivated_never_deleted_and_old_cases_keep_their_meaning(agent, admin):
    code = pb.Code(
        kind="issue", code="complaint.packaging.wrong_label", label="Wrong label", severity="medium"
    )
    code.active = True
    put = await admin.PutCode(pb.PutCodeRequest(code=code))
    assert put.path == SEPARATOR.join(["Complaint", "Packaging", "Wrong label"])
    case = await agent.capture(issue_code="complaint.packaging.wrong_label")
    refused = await agent.refused("PutCode", pb.PutCodeRequest(code=code))
    assert refused.code() == Code.PERMISSION_DENIED
    code.active = False
    await admin.PutCode(pb.PutCodeRequest(code=code))
    retired = await agent.refused(
        "CreateCase", pb.CreateCaseRequest(case=pb.Case(issue_code="complaint.packaging.wrong_label"))
    )
    assert retired.code() == Code.INVALID_ARGUMENT and "no longer in use" in retired.details()
    old = await agent.GetCase(pb.GetCaseRequest(id=case.id))
    assert old.issue_path == SEPARATOR.join(["Complaint", "Packaging", "Wrong label"])
    active = await agent.ListCodes(pb.ListCodesRequest(kind="issue"))
    assert "complaint.packaging.wrong_label" not in [c.code for c in active.codes]
    every = await agent.ListCodes(pb.ListCodesRequest(kind="issue", include_inactive=True))
    assert "complaint.packaging.wrong_label" in [c.code for c in every.codes]
    orphan = pb.Code(kind="issue", code="nowhere.child", label="Child", active=True)
    missing_parent = await admin.refused("PutCode", pb.PutCodeRequest(code=orphan))
    assert missing_parent.code() == Code.INVALID_ARGUMENT and "parent" in missing_parent.details()


async def test_the_status_and_action_tables_are_listed_with_their_meaning(agent):
    statuses = {c.code: c.stage for c in (await agent.ListCodes(pb.ListCodesRequest(kind="status"))).codes}
    assert statuses["referred_qa"] == "in_progress" and statuses["closed"] == "closed"
    actions = {
        c.code: c.is_response for c in (await agent.ListCodes(pb.ListCodesRequest(kind="action"))).codes
    }
    assert actions["replied"] is True and actions["coupon_sent"] is False


async def test_a_change_without_a_principal_is_refused_and_a_read_is_not(contacts, agent):
    case = await agent.capture()
    nobody = Caller(contacts.channel, None)
    for method, request in [
        ("CreateCase", pb.CreateCaseRequest(case=pb.Case(issue_code="question"))),
        ("ChangeStatus", pb.ChangeStatusRequest(id=case.id, status="resolved")),
        ("Escalate", pb.EscalateRequest(id=case.id, reason="x")),
        ("AddAction", pb.AddActionRequest(id=case.id, action_code="replied")),
        ("Assign", pb.AssignRequest(id=case.id, assignee="alice")),
        ("LinkCall", pb.LinkCallRequest(id=case.id, call_id="c1")),
        ("PutCode", pb.PutCodeRequest(code=pb.Code(kind="action", code="x", label="X"))),
    ]:
        failed = await nobody.refused(method, request)
        assert failed.code() == Code.UNAUTHENTICATED, method
        assert "principal" in failed.details(), method
    assert (await nobody.GetCase(pb.GetCaseRequest(id=case.id))).status == "new"  # nothing changed
    forged = Caller(contacts.channel, "alice", "root")  # not a role
    assert (
        await forged.refused("CreateCase", pb.CreateCaseRequest(case=pb.Case(issue_code="question")))
    ).code() == (Code.UNAUTHENTICATED)


async def test_an_unknown_case_is_not_found(agent):
    missing = await agent.refused("GetCase", pb.GetCaseRequest(id="5b0e5d0e-0000-4000-8000-000000000009"))
    assert missing.code() == Code.NOT_FOUND
    malformed = await agent.refused("GetCase", pb.GetCaseRequest(id="nope"))
    assert malformed.code() == Code.INVALID_ARGUMENT and "id" in malformed.details()


async def test_each_change_is_published_as_an_event(contacts, amqp_url, agent, supervisor):
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "contacts.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        for key in ("contact_created", "contact_escalated", "contact_resolved", "contact_updated"):
            await queue.bind(exchange, key)
        case = await agent.capture()
        await agent.Escalate(pb.EscalateRequest(id=case.id, reason="Needs QA"))
        # An escalated case is a supervisor's to resolve.
        await supervisor.ChangeStatus(pb.ChangeStatusRequest(id=case.id, status="resolved"))
        seen: list[tuple[str, str]] = []

        async def got_all():
            message = await queue.get(fail=False)
            if message:
                await message.ack()
                body = json.loads(message.body)
                if body["data"]["case"]["id"] == case.id:
                    seen.append((body["type"], body["data"]["case"]["status"]))
            return len(seen) >= 4

        await async_wait_for(got_all, timeout=15, what="the case's events")
        assert seen[:2] == [("contact_created", "new"), ("contact_escalated", "new")]
        # The two events of one change leave in one batch, whose confirms are awaited together, so they may
        # arrive in either order; each carries the case as it is after the change.
        assert sorted(seen[2:]) == [("contact_resolved", "resolved"), ("contact_updated", "resolved")]
    finally:
        await connection.close()
