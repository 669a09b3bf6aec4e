"""The console's casework API: who is acting reaches contacts as the principal, cookie changes need the
CSRF token and our origin, bearer tokens from `crs agent token` work, and supervisors' work is theirs."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp

from services.console.accounts import UPSERT_TEAM
from services.console.seed import SCHEMA, upsert_agent
from services.runtime import db
from tests.integration.console.fakes import ADA_ID, RECORDED_CALL, RECORDING_KEY
from tests.integration.console.test_pages import browser, browser_login, csrf_of

CASE = {"issue_code": "complaint.quality", "verbatim": "There was plastic in it.", "consumer_id": ADA_ID}


async def signed_in(http, base, username, password) -> dict[str, str]:
    await browser_login(http, base, username, password)
    return {"Origin": base, "X-CSRF-Token": await csrf_of(http, base)}


async def agent_token(service_env, username: str, *extra: str) -> str:
    issued = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "agent", "token", username, *extra],
        env=service_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


async def test_a_case_captured_in_the_browser_is_created_as_the_signed_in_agent(console):
    casework = console.servers["contacts"].also[0][0]
    async with browser() as http:
        headers = await signed_in(http, console.base, "ada", "ada-demo-1001")
        body = {**CASE, "call_id": "call-1@test"}
        async with http.post(f"{console.base}/api/contacts", json=body, headers=headers) as reply:
            assert reply.status == 201, await reply.text()
            case = await reply.json()
    assert case["call_ids"] == ["call-1@test"] and case["verbatim"] == "There was plastic in it."
    assert case["created_by"] == "ada"
    assert ("CreateCase", "ada", "agent") in casework.actors


async def test_a_cookie_change_without_the_csrf_token_or_from_another_site_is_refused(console):
    casework = console.servers["contacts"].servicer
    before = len(console.servers["contacts"].also[0][0].cases)
    async with browser() as http:
        headers = await signed_in(http, console.base, "ada", "ada-demo-1001")
        async with http.post(
            f"{console.base}/api/contacts", json=CASE, headers={"Origin": console.base}
        ) as reply:
            assert reply.status == 403
            assert "reload" in (await reply.json())["error"]
        async with http.post(
            f"{console.base}/api/contacts", json=CASE, headers={**headers, "Origin": "http://evil.example"}
        ) as reply:
            assert reply.status == 403
            assert "another site" in (await reply.json())["error"]
    assert len(console.servers["contacts"].also[0][0].cases) == before
    assert casework is not None


async def test_a_token_from_crs_agent_token_works_as_a_bearer_with_that_agents_permissions(
    console, service_env
):
    token = await agent_token(service_env, "ben")
    bearer = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{console.base}/api/contacts", json=CASE, headers=bearer) as reply:
            assert reply.status == 201
            case = await reply.json()
        async with http.get(f"{console.base}/api/queue", headers=bearer) as reply:
            assert reply.status == 403
            assert (await reply.json())["error"] == "you do not have the permission cases.queue"
        async with http.post(
            f"{console.base}/api/contacts/{case['id']}/assign", json={"assignee": "ada"}, headers=bearer
        ) as reply:
            assert reply.status == 403
            assert "not give it to others" in (await reply.json())["error"]
        async with http.post(
            f"{console.base}/api/contacts/{case['id']}/assign", json={"assignee": "ben"}, headers=bearer
        ) as reply:
            assert reply.status == 200 and (await reply.json())["assignee"] == "ben"
        async with http.put(
            f"{console.base}/api/codes/issue/complaint.new", json={"label": "New"}, headers=bearer
        ) as reply:
            assert reply.status == 403
    assert ("CreateCase", "ben", "agent") in console.servers["contacts"].also[0][0].actors


async def test_the_supervisor_sees_the_escalated_case_in_the_queue_and_may_assign_it(console, service_env):
    agent = {"Authorization": f"Bearer {await agent_token(service_env, 'ada')}"}
    supervisor = {"Authorization": f"Bearer {await agent_token(service_env, 'sam')}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{console.base}/api/contacts", json=CASE, headers=agent) as reply:
            case = await reply.json()
        async with http.post(
            f"{console.base}/api/contacts/{case['id']}/escalate", json={"reason": "a lot"}, headers=agent
        ) as reply:
            assert reply.status == 200 and (await reply.json())["escalated"] is True
        async with http.get(f"{console.base}/api/queue", headers=supervisor) as reply:
            assert reply.status == 200
            assert case["id"] in [c["id"] for c in (await reply.json())["cases"]]
        async with http.post(
            f"{console.base}/api/contacts/{case['id']}/assign", json={"assignee": "ada"}, headers=supervisor
        ) as reply:
            assert reply.status == 200 and (await reply.json())["assignee"] == "ada"


async def test_fields_a_client_may_not_write_are_refused_with_their_names(console, service_env):
    bearer = {"Authorization": f"Bearer {await agent_token(service_env, 'ada')}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{console.base}/api/contacts", json={**CASE, "status": "closed", "reference": 7}, headers=bearer
        ) as reply:
            assert reply.status == 400
            assert (await reply.json())["error"] == "reference, status: not fields a client may write"
        async with http.post(
            f"{console.base}/api/contacts",
            data=b"{nope",
            headers={**bearer, "Content-Type": "application/json"},
        ) as reply:
            assert reply.status == 400


async def test_an_expired_token_and_a_session_after_crs_agent_passwd_are_refused(console, service_env):
    expired = await agent_token(service_env, "ada", "--days", "0")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{console.base}/api/me", headers={"Authorization": f"Bearer {expired}"}) as r:
            assert r.status == 401
    async with browser() as http:
        await browser_login(http, console.base, "ben", "ben-demo-1002")
        async with http.get(f"{console.base}/api/me") as reply:
            assert reply.status == 200 and (await reply.json())["username"] == "ben"
        changed = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "agent",
                "passwd",
                "ben",
                "--password",
                "ben-demo-1002",
            ],
            env=service_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert changed.returncode == 0, changed.stderr
        assert "sessions ended" in changed.stdout
        async with http.get(f"{console.base}/api/me") as reply:
            assert reply.status == 401


async def test_a_recording_plays_through_the_console_for_a_supervisor_only(console):
    store = console.env["CRS_RECORDINGS_URL"].removeprefix("file://")
    from services.runtime.recordings import LocalDirectoryStore

    LocalDirectoryStore(store).put(RECORDING_KEY, b"RIFF-fake-wave-bytes")
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(f"{console.base}/recordings/{RECORDED_CALL}", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/login"
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        async with http.get(f"{console.base}/recordings/{RECORDED_CALL}") as reply:
            assert reply.status == 403, "an agent may not listen to recordings"
            assert "recordings.play" in await reply.text()
    async with browser() as http:
        await browser_login(http, console.base, "sam", "sam-demo-super")
        async with http.get(f"{console.base}/recordings/{RECORDED_CALL}") as reply:
            assert reply.status == 200
            assert reply.content_type == "audio/wav"
            assert await reply.read() == b"RIFF-fake-wave-bytes"
        async with http.get(f"{console.base}/recordings/unknown-call") as reply:
            assert reply.status == 404


async def test_a_supervisor_of_another_team_is_refused_the_recording_with_403(console, database_url):
    with db.connect(database_url, schema=SCHEMA) as conn:
        conn.execute(UPSERT_TEAM, ("south", "South"))
        upsert_agent(
            conn,
            username="sol",
            display_name="Sol South",
            password="sol-south-super",
            role="supervisor",
            extension="2001",
            team_id="south",
        )
        conn.commit()
    async with browser() as http:
        await browser_login(http, console.base, "sol", "sol-south-super")
        async with http.get(f"{console.base}/recordings/{RECORDED_CALL}") as reply:
            assert reply.status == 403
            assert "this recording is of a call outside your team" in await reply.text()


async def test_the_capture_form_gets_the_consumers_purchases_first_then_the_catalogue(console, service_env):
    bearer = {"Authorization": f"Bearer {await agent_token(service_env, 'ada')}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{console.base}/api/catalogue", params={"consumer_id": ADA_ID}, headers=bearer
        ) as reply:
            assert reply.status == 200
            products = (await reply.json())["products"]
    assert [(p["sku"], p["bought"]) for p in products] == [("OAT-500", True), ("RYE-750", False)]
    assert products[1] == {
        "sku": "RYE-750",
        "upc": "0002",
        "name": "Rye loaf 750 g",
        "size": "750 g",
        "bought": False,
    }


async def test_the_openapi_document_carries_the_case_fields_rules_and_each_routes_permission(console):
    async with aiohttp.ClientSession() as http, http.get(f"{console.base}/api/openapi.json") as reply:
        assert reply.status == 200
        document = await reply.json()
    case = document["components"]["schemas"]["Case"]["properties"]
    assert case["issue_code"]["maxLength"] == 200
    assert case["channel"]["enum"] == ["", "phone", "email", "letter", "chat", "web"]
    assert case["reference"]["readOnly"] is True
    assert document["paths"]["/api/queue"]["get"]["x-permission"] == "cases.queue"
    assert document["paths"]["/api/contacts"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/CaseInput"}
    written = document["components"]["schemas"]["CaseInput"]["properties"]
    assert "reference" not in written and written["verbatim"]["maxLength"] == 20000
