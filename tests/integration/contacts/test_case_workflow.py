"""Casework over the REST API against the real service: capture, workflow, escalation, timeline, events."""

from __future__ import annotations

import json

import aio_pika
import aiohttp
import pytest

from services.contacts.codes import SEPARATOR
from tests.integration.contacts.case_support import Api
from tests.support.wait import async_wait_for


@pytest.fixture
async def agent(contacts):
    async with aiohttp.ClientSession() as session:
        yield Api(contacts.http_url, session, "alice")


@pytest.fixture
async def supervisor(contacts):
    async with aiohttp.ClientSession() as session:
        yield Api(contacts.http_url, session, "sam", "supervisor")


async def test_a_captured_complaint_is_coded_with_its_product_and_lot(agent):
    case = await agent.capture(
        channel="phone",
        product={
            "sku": "COC-500",
            "name": "Crunchy Oat Clusters 500 g",
            "lot_code": "L2419",
            "best_by": "2025-03-01",
            "purchase_store": "FreshMart",
            "purchase_location": "Columbus, OH",
        },
        verbatim="  There was a   sharp bit of plastic in my bowl!\n",
    )
    assert case["issue_path"] == SEPARATOR.join(["Complaint", "Quality", "Foreign object", "Plastic"])
    assert case["severity"] == "high"  # the code's severity
    assert case["status"] == "new" and case["stage"] == "new"
    assert case["product"]["lot_code"] == "L2419" and case["product"]["best_by"] == "2025-03-01"
    assert case["verbatim"] == "  There was a   sharp bit of plastic in my bowl!\n"  # kept exactly
    assert case["response_due_at"] and case["resolution_due_at"]
    assert case["created_by"] == "alice"
    again = await agent.get(f"/api/contacts/{case['id']}")
    assert again["verbatim"] == case["verbatim"]


async def test_the_workflow_refuses_transitions_it_does_not_allow(agent):
    case = await agent.capture()
    path = f"/api/contacts/{case['id']}/status"
    status, body = await agent.call("POST", path, {"status": "bogus"})
    assert status == 400 and "status" in body["error"]
    await agent.post(path, {"status": "resolved"})
    await agent.post(path, {"status": "closed"})
    status, body = await agent.call("POST", path, {"status": "in_progress"})
    assert status == 409 and "closed" in body["error"]


async def test_first_response_and_resolution_times_follow_from_the_events(agent):
    case = await agent.capture(issue_code="question.where_to_buy")
    assert case["first_response_at"] is None
    replied = await agent.post(
        f"/api/contacts/{case['id']}/actions", {"action_code": "replied", "note": "Emailed stores"}
    )
    assert replied["first_response_at"] is not None and replied["time_to_first_response_seconds"] >= 0
    await agent.post(f"/api/contacts/{case['id']}/status", {"status": "awaiting_consumer"})
    resolved = await agent.post(f"/api/contacts/{case['id']}/status", {"status": "resolved"})
    assert resolved["resolved_at"] is not None and resolved["time_to_resolution_seconds"] > 0
    assert resolved["first_response_at"] == replied["first_response_at"]
    reopened = await agent.post(
        f"/api/contacts/{case['id']}/status", {"status": "in_progress", "note": "called again"}
    )
    assert reopened["resolved_at"] is None


async def test_escalation_goes_to_the_supervisor_queue_and_the_timeline_tells_every_step(agent, supervisor):
    case = await agent.capture(
        product={"sku": "FL-1L", "lot_code": "B77"}, issue_code="complaint.packaging.leaking"
    )
    cid = case["id"]
    status, _ = await agent.call("POST", f"/api/contacts/{cid}/escalate", {"reason": ""})
    assert status == 400
    await agent.post(f"/api/contacts/{cid}/escalate", {"reason": "Consumer asks for a manager"})
    queue = await supervisor.get("/api/queue")
    assert cid in [c["id"] for c in queue["cases"]]
    taken = await supervisor.post(f"/api/contacts/{cid}/assign", {"assignee": "sam"})
    assert taken["assignee"] == "sam"
    status, _ = await agent.call("POST", f"/api/contacts/{cid}/assign", {"assignee": "bob"})
    assert status == 403  # an agent takes cases, does not hand them out
    await supervisor.post(f"/api/contacts/{cid}/actions", {"action_code": "coupon_sent"})
    await supervisor.post(f"/api/contacts/{cid}/status", {"status": "resolved", "note": "Coupon and apology"})
    assert cid not in [c["id"] for c in (await supervisor.get("/api/queue"))["cases"]]
    events = (await agent.get(f"/api/contacts/{cid}/timeline"))["events"]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("created", "alice"),
        ("escalated", "alice"),
        ("assigned", "sam"),
        ("action", "sam"),
        ("status", "sam"),
    ]
    assert events[2]["changes"]["assignee"] == {"before": "", "after": "sam"}
    assert events[4]["changes"]["status"] == {"before": "new", "after": "resolved"}
    assert events[4]["note"] == "Coupon and apology"


async def test_illness_is_critical_and_escalated_at_once(agent, supervisor):
    case = await agent.capture(
        issue_code="complaint.illness_injury.illness",
        severity="low",
        verbatim="My son was sick after eating it.",
    )
    assert case["severity"] == "critical" and case["escalated"]
    assert "Health and safety" in case["escalation_reason"]
    queue = await supervisor.get("/api/queue")
    assert case["id"] in [c["id"] for c in queue["cases"]]
    kinds = [e["kind"] for e in (await agent.get(f"/api/contacts/{case['id']}/timeline"))["events"]]
    assert kinds == ["created", "escalated"]


async def test_an_update_records_before_and_after_and_rejects_a_stale_version(agent):
    case = await agent.capture(product={"sku": "COC-500", "lot_code": "L1"})
    status, updated = await agent.call(
        "PATCH",
        f"/api/contacts/{case['id']}",
        {"product": {"sku": "COC-500", "lot_code": "L2"}, "version": case["version"]},
    )
    assert status == 200 and updated["product"]["lot_code"] == "L2"
    status, body = await agent.call(
        "PATCH", f"/api/contacts/{case['id']}", {"notes": "x", "version": case["version"]}
    )
    assert status == 409 and "reload" in body["error"]
    events = (await agent.get(f"/api/contacts/{case['id']}/timeline"))["events"]
    assert events[-1]["changes"]["lot_code"] == {"before": "L1", "after": "L2"}


async def test_codes_are_deactivated_never_deleted_and_old_cases_keep_their_meaning(agent, supervisor):
    await supervisor.call(
        "PUT",
        "/api/codes/issue/complaint.packaging.wrong_label",
        {"label": "Wrong label", "severity": "medium"},
        expect=200,
    )
    case = await agent.capture(issue_code="complaint.packaging.wrong_label")
    status, _ = await agent.call("PUT", "/api/codes/issue/complaint.packaging.wrong_label", {"label": "x"})
    assert status == 403
    await supervisor.call(
        "PUT",
        "/api/codes/issue/complaint.packaging.wrong_label",
        {"label": "Wrong label", "severity": "medium", "active": False},
        expect=200,
    )
    status, body = await agent.call(
        "POST", "/api/contacts", {"issue_code": "complaint.packaging.wrong_label"}
    )
    assert status == 400 and "no longer in use" in body["error"]
    old = await agent.get(f"/api/contacts/{case['id']}")
    assert old["issue_path"] == SEPARATOR.join(["Complaint", "Packaging", "Wrong label"])
    active = (await agent.get("/api/codes/issue"))["codes"]
    assert "complaint.packaging.wrong_label" not in [c["code"] for c in active]
    every = (await agent.get("/api/codes/issue", {"include_inactive": "true"}))["codes"]
    assert "complaint.packaging.wrong_label" in [c["code"] for c in every]


async def test_requests_without_a_valid_token_are_refused(contacts):
    async with aiohttp.ClientSession() as session:
        async with session.get(contacts.http_url + "/api/contacts") as response:
            assert response.status == 401
        async with session.get(
            contacts.http_url + "/api/contacts", headers={"Authorization": "Bearer forged.token"}
        ) as response:
            assert response.status == 401


async def test_each_change_is_published_as_an_event(contacts, amqp_url, agent):
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
        await agent.post(f"/api/contacts/{case['id']}/escalate", {"reason": "Needs QA"})
        await agent.post(f"/api/contacts/{case['id']}/status", {"status": "resolved"})
        seen: list[tuple[str, str]] = []

        async def got_all():
            message = await queue.get(fail=False)
            if message:
                await message.ack()
                body = json.loads(message.body)
                if body["data"]["case"]["id"] == case["id"]:
                    seen.append((body["type"], body["data"]["case"]["status"]))
            return len(seen) >= 4

        await async_wait_for(got_all, timeout=15, what="the case's events")
        assert seen == [
            ("contact_created", "new"),
            ("contact_escalated", "new"),
            ("contact_updated", "resolved"),
            ("contact_resolved", "resolved"),
        ]
    finally:
        await connection.close()
