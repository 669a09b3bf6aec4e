"""Any replica can hold any agent's socket: pops composed by one replica reach a socket on another."""

from __future__ import annotations

import re
import subprocess

import aiohttp

from tests.integration.screenpop.conftest import (
    free_port,
    next_message,
    next_of_type,
    start_process,
    wait_ready,
)
from tests.integration.screenpop.fakes import ADA_NUMBER


async def pops_published(base: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as reply:
        text = await reply.text()
    return sum(float(v) for v in re.findall(r"^crs_screenpop_pops_total\{[^}]*\} (\S+)$", text, re.M))


async def test_pops_composed_on_one_replica_reach_a_socket_on_the_other(screenpop, tmp_path):
    port = free_port()
    log_path = tmp_path / "replica-2.log"
    process, log_file = start_process({**screenpop.env, "CRS_SCREENPOP_HTTP": f"127.0.0.1:{port}"}, log_path)
    second = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(second, process, log_path)
        first_before = await pops_published(screenpop.base)
        token = await screenpop.token("1001")
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                second.replace("http://", "ws://") + "/ws", headers={"Authorization": f"Bearer {token}"}
            )
            assert (await next_message(ws))["type"] == "hello"
            for _ in range(6):
                call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
                pop = await next_of_type(ws, "pop", call_id=call_id)
                assert pop["consumer"]["name"] == "Ada Lovelace"
                await screenpop.end(extension="1001", call_id=call_id)
                await next_of_type(ws, "clear", call_id=call_id)
            await ws.close()
        # Both replicas take turns on the shared ringing queue, so the first composed some of them.
        assert await pops_published(screenpop.base) > first_before
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
