"""The case's stored status follows its fulfillment across the real processes: contacts, billing, the
fulfillment API, its worker and the console, on a database and broker of their own. A refund above the
agent's limit puts the case in awaiting fulfillment, where she may not resolve it; once the supervisor
approves and billing posts the credit, the case is back where it was, with both moves on its timeline."""

from __future__ import annotations

import aiohttp

from tests.acceptance import test_fulfillment_browser as fulfillment_stack
from tests.acceptance.test_fulfillment_browser import new_case, token
from tests.support.wait import async_wait_for

# The fulfillment browser tests' stack, started once more for this module on its own database and vhost.
own_database, own_vhost, stack = (
    fulfillment_stack.own_database,
    fulfillment_stack.own_vhost,
    fulfillment_stack.stack,
)


async def test_a_refund_holds_the_case_in_awaiting_fulfillment_until_it_is_delivered(stack):
    base, _ = stack
    case_id = await new_case(stack)
    async with aiohttp.ClientSession() as session:
        ada = {"Authorization": f"Bearer {await token(session, base, 'ada', 'ada-demo-1001')}"}
        sam = {"Authorization": f"Bearer {await token(session, base, 'sam', 'sam-demo-super')}"}

        async def case_page(check):
            async with session.get(f"{base}/api/contacts/{case_id}/fulfillments", headers=ada) as r:
                assert r.status == 200, await r.text()
                shown = await r.json()
            return shown if check(shown) else None

        async with session.post(
            f"{base}/api/contacts/{case_id}/fulfillments",
            json={"kind": "refund", "value": "40.00", "currency": "USD"},
            headers=ada,
        ) as r:
            assert r.status == 201, await r.text()
            refund = await r.json()
        assert refund["state"] == "awaiting_approval"

        waiting = await async_wait_for(
            lambda: case_page(lambda shown: shown["awaiting_fulfillment"]),
            timeout=30,
            what="the case waiting",
        )
        assert (waiting["status"], waiting["stage"]) == ("awaiting_fulfillment", "awaiting_fulfillment")
        async with session.get(f"{base}/api/contacts/{case_id}", headers=ada) as r:
            stored = await r.json()
        # Requested and awaiting approval are published together, on queues of their own: the case may have
        # heard either one first.
        (owed,) = stored["open_fulfillments"]
        assert (owed["fulfillment_id"], owed["kind"]) == (refund["id"], "refund")
        assert owed["state"] in ("requested", "awaiting_approval")
        async with session.post(
            f"{base}/api/contacts/{case_id}/status", json={"status": "resolved", "note": ""}, headers=ada
        ) as r:
            assert r.status == 403
            assert "the consumer is still owed a refund (" in (await r.json())["error"]

        async with session.post(f"{base}/api/fulfillments/{refund['id']}/approve", json={}, headers=sam) as r:
            assert r.status == 200, await r.text()
        back = await async_wait_for(
            lambda: case_page(
                lambda shown: shown["fulfillments"][0]["state"] == "delivered" and shown["status"] == "new"
            ),
            timeout=60,
            what="the refund delivered and the case back to new",
        )
        assert back["awaiting_fulfillment"] is False

        async with session.get(f"{base}/api/contacts/{case_id}/timeline", headers=ada) as r:
            events = (await r.json())["events"]
        moves = [(e["actor"], e["note"].partition(" (")[0]) for e in events if e["kind"] == "status"]
        assert moves == [
            ("system", "Waiting on the refund"),
            ("system", "No fulfillment open any more: the refund"),
        ]
        assert "(delivered" in [e["note"] for e in events if e["kind"] == "status"][-1]
