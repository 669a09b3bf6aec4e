"""Any console replica serves any agent: pops composed by either screenpop replica reach a socket held
by a second console replica."""

from __future__ import annotations

import re

import aiohttp

from tests.integration.console.fakes import ADA_NUMBER
from tests.integration.console.stack import (
    Process,
    console_env,
    free_port,
    next_message,
    next_of_type,
    wait_ready,
    wait_serving,
)


async def pops_composed(metrics_port: int) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{metrics_port}/") as reply:
        text = await reply.text()
    return sum(float(v) for v in re.findall(r"^crs_screenpop_pops_total\{[^}]*\} (\S+)$", text, re.M))


async def test_pops_composed_by_either_screenpop_reach_a_socket_on_a_second_console(screenpop, tmp_path):
    metrics_port, grpc_port, console_port = free_port(), free_port(), free_port()
    composer = Process(
        "services.screenpop",
        {
            **screenpop.env,
            "CRS_SCREENPOP_GRPC": f"127.0.0.1:{grpc_port}",
            "CRS_SCREENPOP_METRICS_PORT": str(metrics_port),
        },
        tmp_path / "screenpop-2.log",
    )
    second = Process("services.console", console_env(screenpop.env, console_port), tmp_path / "console-2.log")
    base = f"http://127.0.0.1:{console_port}"
    try:
        await wait_serving(f"127.0.0.1:{grpc_port}", composer)
        await wait_ready(base, second)
        token = await screenpop.token("1001")
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                base.replace("http://", "ws://") + "/ws", headers={"Authorization": f"Bearer {token}"}
            )
            assert (await next_message(ws))["type"] == "hello"
            for _ in range(8):
                call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
                pop = await next_of_type(ws, "pop", call_id=call_id)
                assert pop["consumer"]["name"] == "Ada Lovelace"
                await screenpop.end(extension="1001", call_id=call_id)
                await next_of_type(ws, "clear", call_id=call_id)
            await ws.close()
        # Both screenpop replicas take turns on the shared ringing queue, so the second composed some.
        assert await pops_composed(metrics_port) > 0
    finally:
        second.stop()
        composer.stop()
