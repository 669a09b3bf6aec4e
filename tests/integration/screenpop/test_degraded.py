"""Under a ring budget shorter than a slow source's own deadline, the pop goes out degraded and on time.

Screenpop and the console run as processes with the fake sources; billing is made to stop answering.
Its own deadline is long (5 s) and the ring's budget short (1.5 s from the INVITE), so only the budget
can be what cuts it: the pop arrives well before billing's deadline, says it lacks billing and why, and
screenpop's degraded-pop counter goes up by one.
"""

from __future__ import annotations

import re
import time

import aiohttp
import pytest

from tests.integration.console.fakes import ADA_NUMBER
from tests.integration.console.stack import free_port, next_message, next_of_type, start_stack

RING_BUDGET_MS = 1500
OWN_DEADLINE_MS = 5000


@pytest.fixture(scope="module")
async def shedding(service_env, database_url, amqp_url, tmp_path_factory):
    metrics_port = free_port()
    env = {
        **service_env,
        "CRS_SCREENPOP_RING_BUDGET_MS": str(RING_BUDGET_MS),
        "CRS_SCREENPOP_SOURCE_DEADLINE_MS": str(OWN_DEADLINE_MS),
        "CRS_SCREENPOP_METRICS_PORT": str(metrics_port),
    }
    stack = start_stack(env, database_url, amqp_url, tmp_path_factory.mktemp("shedding"))
    running = await anext(stack)
    running.metrics_port = metrics_port
    yield running
    await stack.aclose()


async def degraded_count(metrics_port: int, reason: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{metrics_port}/") as reply:
        text = await reply.text()
    found = re.search(rf'^crs_screenpop_degraded_total\{{reason="{reason}"\}} (\S+)$', text, re.M)
    assert found, f"no crs_screenpop_degraded_total for {reason} in screenpop's metrics"
    return float(found.group(1))


async def test_a_source_slower_than_the_ring_budget_gives_a_degraded_pop_on_time(shedding):
    billing = shedding.servers["billing"].servicer
    before = await degraded_count(shedding.metrics_port, "cut_at_ring_deadline")
    billing.slow = True
    try:
        async with aiohttp.ClientSession() as http:
            token = await shedding.token("1001")
            ws = await http.ws_connect(shedding.ws_url, headers={"Authorization": f"Bearer {token}"})
            assert (await next_message(ws))["type"] == "hello"
            started = time.monotonic()
            call_id = await shedding.ring(extension="1001", number=ADA_NUMBER)
            pop = await next_of_type(ws, "pop", call_id=call_id, timeout=OWN_DEADLINE_MS / 1000)
            elapsed = time.monotonic() - started
            assert pop["degraded"] == "cut_at_ring_deadline"
            # Recalls are asked after billing and fulfillment; billing used up what was left of the budget.
            assert pop["partial"] == ["billing", "insights"]
            assert pop["balance"] is None and pop["credit_terms"] is None
            assert pop["consumer"]["name"] == "Ada Lovelace" and pop["purchases"], "the rest came in time"
            # Cut at the budget, not at billing's own 5 s (a busy machine may add a second to the bus).
            assert elapsed < RING_BUDGET_MS / 1000 + 1.0
            await shedding.end(extension="1001", call_id=call_id)
            await next_of_type(ws, "clear", call_id=call_id)
            await ws.close()
    finally:
        billing.slow = False
    assert await degraded_count(shedding.metrics_port, "cut_at_ring_deadline") == before + 1


async def test_with_every_source_answering_the_pop_is_full_and_not_degraded(shedding):
    async with aiohttp.ClientSession() as http:
        token = await shedding.token("1001")
        ws = await http.ws_connect(shedding.ws_url, headers={"Authorization": f"Bearer {token}"})
        assert (await next_message(ws))["type"] == "hello"
        call_id = await shedding.ring(extension="1001", number=ADA_NUMBER)
        pop = await next_of_type(ws, "pop", call_id=call_id)
        assert pop["degraded"] is None and pop["partial"] == []
        assert pop["balance"]["display"] == "USD 42.50"
        await shedding.end(extension="1001", call_id=call_id)
        await next_of_type(ws, "clear", call_id=call_id)
        await ws.close()
