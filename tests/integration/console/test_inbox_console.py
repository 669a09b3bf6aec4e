"""The inbox through the console, with contacts and the console as real processes on this run's database:
a case of every channel in the agents' inboxes, two agents claiming it at once (one gets it, the other
is told who has it), the other's answer refused, a follow-up on the case and in the inbox, and the
supervisor's team inbox and workload."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.support.processes import contacts_and_console


@pytest.fixture
def stack(service_env, database_url, tmp_path):
    with contacts_and_console(service_env, database_url, tmp_path, CRS_FOLLOW_UP_SWEEP_SECONDS="0.2") as base:
        yield base


async def bearer(http, base: str, username: str, password: str) -> dict[str, str]:
    async with http.post(f"{base}/api/login", json={"username": username, "password": password}) as reply:
        assert reply.status == 200, await reply.text()
        return {"Authorization": f"Bearer {(await reply.json())['token']}"}


async def test_two_agents_claim_one_email_and_the_one_who_lost_is_told_who_has_it(stack):
    base = stack
    async with aiohttp.ClientSession() as http:
        ada = await bearer(http, base, "ada", "ada-demo-1001")
        ben = await bearer(http, base, "ben", "ben-demo-1002")
        sam = await bearer(http, base, "sam", "sam-demo-super")
        # Critical: due within the hour, so it heads the inbox whatever other tests of this run left open.
        body = {
            "issue_code": "question",
            "channel": "email",
            "severity": "critical",
            "verbatim": "Where can I buy the oat bars?",
        }
        async with http.post(f"{base}/api/contacts", json=body, headers=ben) as reply:
            assert reply.status == 201, await reply.text()
            case = await reply.json()
        async with http.get(f"{base}/api/inbox?channel=email", headers=ada) as reply:
            assert reply.status == 200, await reply.text()
            shown = {item["case"]["id"]: item for item in (await reply.json())["items"]}
        assert case["id"] in shown and shown[case["id"]]["case"]["channel"] == "email"
        assert shown[case["id"]].get("due_at")  # worked in SLA order: the response due time

        async def claim(who):
            async with http.post(f"{base}/api/contacts/{case['id']}/claim", json={}, headers=who) as reply:
                return reply.status, await reply.json()

        async def workload():
            async with http.get(f"{base}/api/inbox/workload", headers=sam) as reply:
                return {load["agent"]: load for load in (await reply.json())["agents"]}

        # Other tests of this run leave work with ada and ben: what this one adds is counted on top.
        before = await workload()
        outcomes = await asyncio.gather(claim(ada), claim(ben))
        assert sorted(status for status, _ in outcomes) == [200, 409], outcomes
        winner = next(answer["agent"] for status, answer in outcomes if status == 200)
        loser_error = next(answer["error"] for status, answer in outcomes if status == 409)
        assert f"{winner} claimed this case" in loser_error
        loser = ben if winner == "ada" else ada
        action = {"action_code": "replied", "note": "Dear consumer"}
        async with http.post(
            f"{base}/api/contacts/{case['id']}/actions", json=action, headers=loser
        ) as reply:
            assert reply.status == 409
            assert f"{winner} claimed this case" in (await reply.json())["error"]
        # Nor does the loser's email reply go out: replying takes the claim first, and is refused.
        reply_body = {"body": "Dear consumer, you can buy them at any grocer."}
        async with http.post(
            f"{base}/api/contacts/{case['id']}/replies", json=reply_body, headers=loser
        ) as reply:
            assert reply.status == 409
            assert f"{winner} claimed this case" in (await reply.json())["error"]

        holder = ada if winner == "ada" else ben
        due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        follow_up = {"text": "call back Tuesday", "due_at": due.isoformat().replace("+00:00", "Z")}
        async with http.post(
            f"{base}/api/contacts/{case['id']}/follow-ups", json=follow_up, headers=holder
        ) as reply:
            assert reply.status == 201, await reply.text()
            added = await reply.json()
        assert (added["assignee"], added["text"], added["state"]) == (winner, "call back Tuesday", "open")
        async with http.get(f"{base}/api/contacts/{case['id']}/follow-ups", headers=loser) as reply:
            assert [f["text"] for f in (await reply.json())["follow_ups"]] == ["call back Tuesday"]
        async with http.get(f"{base}/api/inbox", headers=holder) as reply:
            page = await reply.json()
        assert added["id"] in {f["id"] for f in page["follow_ups"]}
        assert page["items"][0]["case"]["id"] != "" and case["id"] in {i["case"]["id"] for i in page["items"]}

        async with http.get(f"{base}/api/inbox?scope=team", headers=sam) as reply:
            assert reply.status == 200, await reply.text()
            team = {item["case"]["id"]: item for item in (await reply.json())["items"]}
        assert team[case["id"]]["claim"]["agent"] == winner
        loads = await workload()
        assert set(loads) == {"ada", "ben"}
        added_work = {
            name: loads[winner].get(name, 0) - before[winner].get(name, 0)
            for name in ("claimed", "open_follow_ups")
        }
        assert added_work == {"claimed": 1, "open_follow_ups": 1}
        async with http.get(f"{base}/api/inbox?scope=team", headers=ada) as reply:
            assert reply.status == 403
        async with http.get(f"{base}/api/inbox/workload", headers=ada) as reply:
            assert reply.status == 403

        async with http.delete(f"{base}/api/contacts/{case['id']}/claim", headers=sam) as reply:
            assert reply.status == 200, await reply.text()
        async with http.post(
            f"{base}/api/contacts/{case['id']}/actions", json=action, headers=loser
        ) as reply:
            assert reply.status == 200, await reply.text()
        async with http.get(f"{base}/inbox", headers=ada) as reply:
            assert reply.status == 200
            assert "Follow-ups" in await reply.text()


async def next_reminder(socket) -> dict:
    """The next reminder on a pop socket, past its hello (and any pop)."""
    while True:
        message = json.loads((await socket.receive(timeout=20)).data)
        if message["type"] == "reminder":
            return message


async def test_a_follow_ups_reminder_reaches_its_assignees_socket_and_no_one_elses(stack):
    base = stack
    async with aiohttp.ClientSession() as http:
        ada = await bearer(http, base, "ada", "ada-demo-1001")
        ben = await bearer(http, base, "ben", "ben-demo-1002")
        body = {"issue_code": "question", "channel": "letter", "verbatim": "Please send me the recipe book."}
        async with http.post(f"{base}/api/contacts", json=body, headers=ada) as reply:
            case = await reply.json()
        async with (
            http.ws_connect(f"{base}/ws", headers=ada) as ada_socket,
            http.ws_connect(f"{base}/ws", headers=ben) as ben_socket,
        ):
            for socket in (ada_socket, ben_socket):
                assert json.loads((await socket.receive(timeout=10)).data)["type"] == "hello"
            due = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
            for who, text in ((ada, "chase QA for the lab result"), (ben, "post the recipe book")):
                follow_up = {"text": text, "due_at": due}
                async with http.post(
                    f"{base}/api/contacts/{case['id']}/follow-ups", json=follow_up, headers=who
                ) as reply:
                    assert reply.status == 201, await reply.text()
                # One at a time: ada's reminder is on the bus before ben's follow-up exists.
                if who is ada:
                    reminded = await next_reminder(ada_socket)
                    assert (reminded["case_id"], reminded["text"]) == (
                        case["id"],
                        "chase QA for the lab result",
                    )
            # Ben's socket gets his own reminder first: ada's, published earlier, never came to him.
            assert (await next_reminder(ben_socket))["text"] == "post the recipe book"
