"""Helpers for the casework tests: console tokens and a JSON client for the REST API."""

from __future__ import annotations

import aiohttp

from services.runtime import console_tokens


def token(username: str = "alice", role: str = "agent", display_name: str = "") -> str:
    return console_tokens.mint(
        secret=console_tokens.secret_from_env(),
        username=username,
        display_name=display_name or username,
        role=role,
    )


class Api:
    """The REST API as one console user sees it."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession, username: str, role: str = "agent"):
        self.base = base_url
        self.session = session
        self.headers = {"Authorization": f"Bearer {token(username, role)}"}

    async def call(self, method: str, path: str, body=None, params=None, expect: int | None = None):
        async with self.session.request(
            method, self.base + path, json=body, params=params, headers=self.headers
        ) as response:
            data = await response.json(content_type=None)
            if expect is not None:
                assert response.status == expect, (response.status, data)
            return response.status, data

    async def capture(self, **case) -> dict:
        case.setdefault("issue_code", "complaint.quality.foreign_object.plastic")
        case.setdefault("verbatim", "I found a piece of hard plastic in the cereal.")
        _, data = await self.call("POST", "/api/contacts", case, expect=201)
        return data

    async def post(self, path: str, body: dict, expect: int = 200) -> dict:
        return (await self.call("POST", path, body, expect=expect))[1]

    async def get(self, path: str, params=None, expect: int = 200) -> dict:
        return (await self.call("GET", path, params=params, expect=expect))[1]
