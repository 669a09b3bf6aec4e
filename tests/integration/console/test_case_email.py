"""A case's email in the console: the messages, and the agent's reply sent as the signed-in agent."""

from __future__ import annotations

import aiohttp
from crs.channels.v1 import channels_pb2

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
