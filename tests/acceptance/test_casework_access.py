"""Casework's rules of access through the console's JSON API, with contacts and the console as their own
processes and the demo team (ada at 1001, ben at 1002, sam their supervisor): what an attacker with an
agent's login tried (moving a case, linking someone else's call, trawling the cases) is refused with 403
and a reason, and the refusal is logged; what the rules allow still works, and reads go to the access log.
"""

from __future__ import annotations

import json
import uuid

from crs.contacts.v1 import contacts_pb2 as cpb
from crs.contacts.v1 import contacts_pb2_grpc

from services.runtime import grpcio
from services.runtime.recordings import LocalDirectoryStore
from tests.acceptance.test_casework_browser import console_process  # noqa: F401 (the fixture)
from tests.integration.console.test_pages import browser, browser_login, csrf_of
from tests.integration.contacts.test_call_filing import call_ended, publish
from tests.support.wait import async_wait_for, wait_for

PLASTIC = "complaint.quality.foreign_object.plastic"
MOVE_REFUSED = (
    "an agent may move a case to another consumer only within 30 minutes of capturing it,"
    " and never an escalated or health-and-safety case: ask a supervisor of the team"
)


async def _consumers(grpc_target: str, *names: str) -> list[str]:
    async with grpcio.channel(grpc_target) as channel:
        stub = contacts_pb2_grpc.ContactsStub(channel)
        made = [
            await stub.CreateConsumer(cpb.CreateConsumerRequest(consumer=cpb.Consumer(name=n)), timeout=5)
            for n in names
        ]
    return [c.id for c in made]


async def _signed_in(http, base: str, username: str, password: str) -> dict[str, str]:
    await browser_login(http, base, username, password)
    return {"Origin": base, "X-CSRF-Token": await csrf_of(http, base)}


def _refusals(log_path) -> list[dict]:
    """The console's logged refusals (JSON lines on its stderr)."""
    found = []
    for line in log_path.read_text().splitlines():
        if line.startswith("{") and '"refused: ' in line:
            found.append(json.loads(line))
    return found


async def test_an_agent_is_refused_moving_anothers_case_with_403_and_the_refusal_is_logged(
    console_process,  # noqa: F811
    tmp_path,
):
    base, grpc_target = console_process
    first, second = await _consumers(grpc_target, "First Owner", "Second Owner")
    async with browser() as ada:
        headers = await _signed_in(ada, base, "ada", "ada-demo-1001")
        body = {"issue_code": PLASTIC, "verbatim": "Plastic in it.", "consumer_id": first}
        async with ada.post(f"{base}/api/contacts", json=body, headers=headers) as reply:
            assert reply.status == 201, await reply.text()
            case = await reply.json()
    async with browser() as ben:
        headers = await _signed_in(ben, base, "ben", "ben-demo-1002")
        patch = {"consumer_id": second}
        async with ben.patch(f"{base}/api/contacts/{case['id']}", json=patch, headers=headers) as reply:
            assert reply.status == 403
            assert (await reply.json())["error"] == MOVE_REFUSED
    logged = wait_for(
        lambda: [r for r in _refusals(tmp_path / "services.console.log") if MOVE_REFUSED in r["msg"]],
        timeout=10,
        what="the refusal in the console's log",
    )
    assert logged[0]["username"] == "ben" and logged[0]["route"] == f"PATCH /api/contacts/{case['id']}"
    async with browser() as ada:
        headers = await _signed_in(ada, base, "ada", "ada-demo-1001")
        async with ada.patch(f"{base}/api/contacts/{case['id']}", json=patch, headers=headers) as reply:
            assert reply.status == 200 and (await reply.json())["consumer_id"] == second
        async with ada.get(f"{base}/api/contacts/{case['id']}/timeline") as reply:
            moved = [e for e in (await reply.json())["events"] if e["kind"] == "moved"]
    assert moved[0]["actor"] == "ada"
    assert moved[0]["changes"] == [{"field": "consumer_id", "before": f'"{first}"', "after": f'"{second}"'}]


async def test_another_agents_call_is_refused_and_a_supervisor_of_the_team_plays_its_recording(
    console_process,  # noqa: F811
    amqp_url,
    tmp_path,
):
    base, grpc_target = console_process
    (owner,) = await _consumers(grpc_target, "Caller Of Ada")
    key = f"2026/12/02/{uuid.uuid4()}.wav"
    LocalDirectoryStore(str(tmp_path)).put(key, b"RIFF-ada-call")
    call_id = await publish(amqp_url, call_ended(number="+16145550881", recording_key=key))  # at 1001

    async with browser() as ben:
        headers = await _signed_in(ben, base, "ben", "ben-demo-1002")
        body = {"issue_code": PLASTIC, "verbatim": "Mine.", "consumer_id": owner}
        async with ben.post(f"{base}/api/contacts", json=body, headers=headers) as reply:
            bens_case = await reply.json()

        async def refused_when_filed():
            async with ben.post(
                f"{base}/api/contacts/{bens_case['id']}/calls", json={"call_id": call_id}, headers=headers
            ) as reply:
                return reply.status == 403 and (await reply.json())["error"]

        error = await async_wait_for(refused_when_filed, timeout=20, what="ada's call filed, and ben refused")
        assert error == (
            "you may link only a call you took at your extension or, as a supervisor, a call of your team"
        )
    async with browser() as ada:
        headers = await _signed_in(ada, base, "ada", "ada-demo-1001")
        body = {"issue_code": PLASTIC, "verbatim": "Theirs.", "consumer_id": owner, "call_id": call_id}
        async with ada.post(f"{base}/api/contacts", json=body, headers=headers) as reply:
            assert reply.status == 201 and (await reply.json())["call_ids"] == [call_id]
    async with browser() as sam:
        await browser_login(sam, base, "sam", "sam-demo-super")
        async with sam.get(f"{base}/recordings/{call_id}") as reply:
            assert reply.status == 200 and await reply.read() == b"RIFF-ada-call"


async def test_an_agent_finds_a_case_by_number_not_by_trawling_and_what_they_saw_is_in_the_access_log(
    console_process,  # noqa: F811
):
    base, grpc_target = console_process
    (owner,) = await _consumers(grpc_target, "Searched For")
    lot = "T" + uuid.uuid4().hex[:6]
    async with browser() as ada:
        headers = await _signed_in(ada, base, "ada", "ada-demo-1001")
        body = {"issue_code": PLASTIC, "consumer_id": owner, "product": {"sku": "COC-500", "lot_code": lot}}
        async with ada.post(f"{base}/api/contacts", json=body, headers=headers) as reply:
            case = await reply.json()
        async with ada.get(f"{base}/api/contacts", params={"lot_code": lot}) as reply:
            assert reply.status == 403
            assert (await reply.json())["error"].startswith("an agent searches for a particular case")
        async with ada.get(f"{base}/api/contacts", params={"reference": case["reference"]}) as reply:
            assert reply.status == 200 and [c["id"] for c in (await reply.json())["cases"]] == [case["id"]]
    async with browser() as sam:
        await browser_login(sam, base, "sam", "sam-demo-super")
        query = {"actor": "ada", "subject": owner, "action": "consumer.read"}
        async with sam.get(f"{base}/api/audit", params=query) as reply:
            entries = (await reply.json())["entries"]
    assert [(e["actor"], e["subject"], e["detail"]) for e in entries] == [
        ("ada", owner, "GET /api/contacts (search)")
    ]
