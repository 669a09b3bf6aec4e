"""Legal's deadline warning through the console, with contacts and the console as real processes on this
run's database: an injury case received 20 hours ago is under CPSC section 15(b) (24 hours, warned 6 hours
before), so contacts' sweep warns of it at once, and the warning reaches the supervisor's pop socket (who
files the report) and not the agent's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.integration.console.test_inbox_console import bearer
from tests.support.processes import contacts_and_console


@pytest.fixture
def stack(service_env, database_url, tmp_path):
    with contacts_and_console(
        service_env, database_url, tmp_path, CRS_REGULATORY_SWEEP_SECONDS="0.2"
    ) as base:
        yield base


async def next_of(socket, kind: str, case_id: str, timeout: float) -> dict | None:
    """The next `kind` message about `case_id` on a pop socket, or None when none comes in `timeout`."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while (left := (deadline - datetime.now(UTC)).total_seconds()) > 0:
        try:
            message = json.loads((await socket.receive(timeout=left)).data)
        except TimeoutError:
            return None
        if message["type"] == kind and message.get("case_id") == case_id:
            return message
    return None


async def test_the_supervisor_who_files_reports_is_warned_on_the_board_and_the_agent_is_not(stack):
    base = stack
    async with aiohttp.ClientSession() as http:
        ada = await bearer(http, base, "ada", "ada-demo-1001")
        sam = await bearer(http, base, "sam", "sam-demo-super")
        async with (
            http.ws_connect(f"{base}/ws", headers=ada) as ada_socket,
            http.ws_connect(f"{base}/ws", headers=sam) as sam_socket,
        ):
            for socket in (ada_socket, sam_socket):
                assert json.loads((await socket.receive(timeout=10)).data)["type"] == "hello"
            received = (datetime.now(UTC) - timedelta(hours=20)).replace(microsecond=0)
            body = {
                "issue_code": "complaint.illness_injury.injury",
                "verbatim": "The blender lid flew off and cut my hand.",
                "occurred_at": received.isoformat().replace("+00:00", "Z"),
            }
            async with http.post(f"{base}/api/contacts", json=body, headers=ada) as reply:
                assert reply.status == 201, await reply.text()
                case = await reply.json()
            assert case["regulatory_clock"]["state"] == "warning"
            warned = await next_of(sam_socket, "regulatory_warning", case["id"], timeout=20)
            assert warned is not None, "no warning reached the supervisor's socket"
            assert (warned["authority"], warned["form"], warned["state"]) == (
                "CPSC",
                "Section 15(b) report",
                "warning",
            )
            due = datetime.fromisoformat(warned["due_at"].replace("Z", "+00:00"))
            assert due == received + timedelta(hours=24)
            assert await next_of(ada_socket, "regulatory_warning", case["id"], timeout=2) is None
            # Once: later rounds of the sweep send nothing more about it.
            assert await next_of(sam_socket, "regulatory_warning", case["id"], timeout=2) is None
