"""A case's email in the console: the messages, and the agent's reply sent as the signed-in agent."""

from __future__ import annotations

import aiohttp
from crs.channels.v1 import channels_pb2

from tests.integration.console.fakes import ADA_ID
from tests.integration.console.test_casework_api import agent_token

CASE_ID = "5b3c2d1e-0000-4000-8000-0000000e3a11"


async def test_an_agent_reads_the_email_and_replies_as_herself(console, service_env):
    fake = console.servers["channels"].servicer
    fake.messages[CASE_ID] = [
        channels_pb2.Message(
            id=1,
            case_id=CASE_ID,
            direction="inbound",
            from_address="jane@example.com",
            subject="Plastic",
            body="There was plastic.",
            delivery="received",
        )
    ]
    ada = {"Authorization": f"Bearer {await agent_token(service_env, 'ada')}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{console.base}/api/contacts/{CASE_ID}/messages", headers=ada) as reply:
            assert reply.status == 200
            (first,) = (await reply.json())["messages"]
            assert (first["from_address"], first["body"]) == ("jane@example.com", "There was plastic.")
        sent = {"body": "We are sorry.", "author": "someone-else"}
        async with http.post(
            f"{console.base}/api/contacts/{CASE_ID}/replies", json=sent, headers=ada
        ) as reply:
            assert reply.status == 201
            answer = await reply.json()
        assert (answer["author"], answer["to_address"], answer["delivery"]) == (
            "ada",
            "jane@example.com",
            "queued",
        )
        async with http.post(
            f"{console.base}/api/contacts/{CASE_ID}/replies", json={"body": " "}, headers=ada
        ) as reply:
            assert reply.status == 400
            assert (await reply.json())["error"] == "body: 1 to 20000 characters"
        other = "5b3c2d1e-0000-4000-8000-0000000e3a12"
        async with http.post(f"{console.base}/api/contacts/{other}/replies", json=sent, headers=ada) as reply:
            assert reply.status == 409


async def test_a_reply_is_offered_templates_in_the_consumers_language_else_the_cases(console, service_env):
    fake = console.servers["channels"].servicer
    ada = {"Authorization": f"Bearer {await agent_token(service_env, 'ada')}"}
    async with aiohttp.ClientSession() as http:
        cases = []
        for body in (
            {"issue_code": "question", "verbatim": "Bonjour.", "language": "fr", "consumer_id": ADA_ID},
            {"issue_code": "question", "verbatim": "Bonjour.", "language": "fr"},
        ):
            async with http.post(f"{console.base}/api/contacts", json=body, headers=ada) as reply:
                assert reply.status == 201, await reply.text()
                cases.append((await reply.json())["id"])
        offered = []
        for case_id in cases:
            async with http.get(
                f"{console.base}/api/contacts/{case_id}/reply-templates", headers=ada
            ) as reply:
                assert reply.status == 200
                offered.append(await reply.json())
        # The consumer (Ada, English) on the first; the case's own language on the second.
        assert [o["language"] for o in offered] == ["en", "fr"]
        assert fake.template_languages[-2:] == ["en", "fr"]
        assert offered[1]["templates"][0]["name"] == "Lot code"
        # Keeping templates is an admin's: an agent is refused the page and the calls.
        for method, path in (("GET", "/reply-templates"), ("GET", "/api/reply-templates")):
            async with http.request(method, f"{console.base}{path}", headers=ada) as reply:
                assert reply.status == 403
