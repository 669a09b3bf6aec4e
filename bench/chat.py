"""Chat latency, consumer to agent socket: N concurrent chats, each consumer sending a line every second.

    .venv/bin/python bench/chat.py                  # 200 chats x 20 lines each
    .venv/bin/python bench/chat.py --chats 50 --lines 5

Contacts, channels and the console run as their own processes, with PostgreSQL and RabbitMQ, on this
machine. Agents (3 chats each) sign in through POST /api/login and hold the console's /ws/chat; consumers
open channels' widget socket. The clock starts when a consumer sends a line and stops when that line
arrives on its agent's console socket (after it is stored on the case). The run fails (exit 1) when a chat
is not routed or a line does not arrive within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import aiohttp

from bench._common import BenchFailed, bench_database, free_port, machine, percentiles, require, run_bench
from services.console.seed import SCHEMA, upsert_agent
from services.runtime import db
from tests.support import infra
from tests.support.processes import ServiceProcess

CAPACITY = 3  # services/console/routes/chat.py
ORIGIN = "http://brand.bench"


def seed_agents(url: str, count: int) -> list[tuple[str, str]]:
    agents = [(f"bench-chat-{n}", f"bench-chat-{n}-password") for n in range(count)]
    with db.connect(url, schema=SCHEMA) as conn:
        for username, password in agents:
            upsert_agent(
                conn, username=username, display_name=username, password=password, role="agent",
                extension=None, team_id=None,
            )  # fmt: skip
        conn.commit()
    return agents


def start_stack(url: str, amqp_url: str) -> tuple[dict, list]:
    ports = {name: free_port() for name in ("contacts", "contacts_http", "channels", "chat", "demo", "console",
                                            "smtp", "sink")}  # fmt: skip
    env = dict(
        os.environ,
        CRS_DATABASE_URL=url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="WARNING",
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_CHANNELS_GRPC=f"127.0.0.1:{ports['channels']}",
        CRS_CHANNELS_CHAT_BIND=f"127.0.0.1:{ports['chat']}",
        CRS_CHANNELS_CHAT_DEMO_BIND=f"127.0.0.1:{ports['demo']}",
        CRS_CHANNELS_WEB_FORM_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_CHAT_ORIGINS=ORIGIN,
        CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{ports['smtp']}",
        CRS_CHANNELS_SINK_BIND=f"127.0.0.1:{ports['sink']}",
        CRS_CHANNELS_SINK_DIR=str(pathlib.Path("/tmp") / f"crs-bench-chat-sink-{os.getpid()}"),
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
    )
    for service in ("contacts", "channels", "console"):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    started = []
    try:
        for name, port in (("contacts", "contacts"), ("channels", "chat"), ("console", "console")):
            started.append(ServiceProcess(f"services.{name}", env).start(wait_port=ports[port]))
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise
    return ports, started


async def open_desk(session, console: str, username: str, password: str, arrived: dict):
    async with session.post(f"{console}/api/login", json={"username": username, "password": password}) as r:
        require(r.status == 200, f"{username} could not sign in: {r.status} {await r.text()}")
        token = (await r.json())["token"]
    ws = await session.ws_connect(f"{console}/ws/chat", headers={"Authorization": f"Bearer {token}"})
    ready = json.loads((await ws.receive(timeout=10)).data)
    require(ready["kind"] == "ready", f"{username}'s desk did not open: {ready}")

    async def listen():
        async for message in ws:
            event = json.loads(message.data)
            for line in event.get("lines", ()) if event["kind"] == "line" else ():
                if line["author"] == "consumer" and line["body"] in arrived:
                    arrived[line["body"]].set_result(time.perf_counter())

    return ws, asyncio.create_task(listen())


async def one_chat(session, url: str, n: int, lines: int, arrived: dict) -> list[tuple[float, float]]:
    """(sent at, latency ms) of each line."""
    samples = []
    async with session.ws_connect(url, origin=ORIGIN) as ws:
        await ws.send_json({"type": "hello", "language": "en"})
        await ws.send_json({"type": "start", "body": f"chat {n} begins"})
        while (frame := json.loads((await ws.receive(timeout=10)).data))["type"] != "started":
            require(frame["type"] not in ("unavailable", "error"), f"chat {n} was not routed: {frame}")
        for i in range(lines):
            body = f"chat {n} line {i}"
            arrived[body] = asyncio.get_running_loop().create_future()
            sent = time.perf_counter()
            await ws.send_json({"type": "say", "body": body})
            try:
                samples.append((sent, 1000 * (await asyncio.wait_for(arrived[body], 10) - sent)))
            except TimeoutError:
                raise BenchFailed(f"{body!r} did not reach the agent's socket in 10 s") from None
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - sent)))
    return samples


async def run(ports: dict, agents: list, chats: int, lines: int) -> tuple[list[float], list[float]]:
    """Every line's latency, and those of lines sent once every chat had started."""
    console = f"http://127.0.0.1:{ports['console']}"
    url = f"ws://127.0.0.1:{ports['chat']}/chat/ws"
    arrived: dict[str, asyncio.Future] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        desks = [await open_desk(session, console, u, p, arrived) for u, p in agents]
        try:
            results = []
            # Chats start over the first seconds rather than all in one instant, as consumers arrive.
            for batch in range(0, chats, 20):
                results.append(
                    asyncio.gather(*(one_chat(session, url, n, lines, arrived) for n in range(batch, min(chats, batch + 20))))
                )  # fmt: skip
                await asyncio.sleep(0.2)
            # The last chat has started (its case opened) about two seconds after its batch was sent.
            steady_from = time.perf_counter() + 2.0
            timed = [s for group in await asyncio.gather(*results) for chat in group for s in chat]
            return [ms for _, ms in timed], [ms for at, ms in timed if at >= steady_from]
        finally:
            for ws, listening in desks:
                listening.cancel()
                await ws.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args()
    url = bench_database("crs_bench_chat", 0)
    agents = seed_agents(url, -(-args.chats // CAPACITY))
    vhost = infra.unique_name("crs-bench-chat")
    amqp_url = infra.create_vhost(vhost)
    ports, started = start_stack(url, amqp_url)
    try:
        samples, steady = asyncio.run(run(ports, agents, args.chats, args.lines))
    finally:
        for process in reversed(started):
            process.stop()
        infra.delete_vhost(vhost)
    figures = percentiles(samples, what="lines")
    require(
        len(samples) == args.chats * args.lines, f"{len(samples)} lines timed of {args.chats * args.lines}"
    )
    print(
        f"{args.chats} chats x {args.lines} lines ({len(samples)} lines, ~{args.chats}/s): consumer to agent "
        f"socket p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"max {figures['max']:.1f} ms (target p99 <= 50 ms)"
    )
    if len(steady) >= 2:
        after = percentiles(steady, what="steady lines")
        print(
            f"  lines sent once every chat had started ({len(steady)}): p50 {after['p50']:.1f} ms, "
            f"p99 {after['p99']:.1f} ms, max {after['max']:.1f} ms"
        )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    run_bench(main)
