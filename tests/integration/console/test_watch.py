"""`crs watch --agent EXT --json` prints the pops of an extension, one JSON object per line."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import aiohttp

from tests.integration.console.fakes import ADA_ID, ADA_NUMBER
from tests.integration.console.stack import next_of_type
from tests.support.wait import async_wait_for


def crs(*args: str, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def watch_env(service_env, console, **extra) -> dict[str, str]:
    env = {k: v for k, v in service_env.items() if not k.startswith("CRS_WATCH_")}
    return {**env, "CRS_CONSOLE_URL": console.base, **extra}


async def sockets_held(console) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{console.base}/metrics") as reply:
        found = re.search(r"^crs_console_sockets (\S+)$", await reply.text(), re.M)
        return float(found.group(1)) if found else 0.0


async def test_watch_with_a_token_prints_the_pop_as_one_json_line(console, service_env):
    issued = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "agent", "token", "ada"],
        env=service_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    env = watch_env(service_env, console, CRS_WATCH_TOKEN=issued.stdout.strip())
    before = await sockets_held(console)
    watcher = crs("watch", "--agent", "1001", "--json", "--count", "1", env=env)
    try:
        await async_wait_for(
            lambda: _more(console, before), timeout=20, interval=0.05, what="crs watch to hold a socket"
        )
        call_id = await console.ring(extension="1001", number=ADA_NUMBER)
        out, err = await asyncio.to_thread(watcher.communicate, timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    pop = json.loads(lines[0])
    assert pop["type"] == "pop" and pop["call_id"] == call_id and pop["extension"] == "1001"
    assert pop["caller"]["number"] == ADA_NUMBER and pop["caller"]["withheld"] is False
    assert pop["matches"][0]["consumer_id"] == ADA_ID and pop["matches"][0]["match"] == "exact"
    assert pop["consumer"]["name"] == "Ada Lovelace"
    assert pop["balance"]["display"] == "USD 42.50"
    assert pop["credit_terms"]["payment_terms"] == "Net 30"
    assert pop["purchases"] and pop["recent_contacts"] and pop["partial"] == []
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            console.ws_url, headers={"Authorization": f"Bearer {await console.token('1001')}"}
        )
        await console.end(extension="1001", call_id=call_id)
        await next_of_type(ws, "clear", call_id=call_id)
        await ws.close()


async def _more(console, before: float) -> bool:
    return await sockets_held(console) > before


async def test_watch_with_credentials_gets_the_current_pop_of_a_ringing_call(console, service_env):
    call_id = await console.ring(extension="1002", number="+16145553333")
    env = watch_env(service_env, console, CRS_WATCH_PASSWORD="ben-demo-1002")

    async def current_pop():
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{console.base}/api/pop",
                headers={"Authorization": f"Bearer {await console.token('1002')}"},
            ) as reply,
        ):
            return (await reply.json())["pop"]

    await async_wait_for(current_pop, timeout=10, what="the pop to be current")
    watcher = crs("watch", "--agent", "1002", "--json", "--user", "ben", "--count", "1", env=env)
    out, err = await asyncio.to_thread(watcher.communicate, timeout=30)
    assert watcher.returncode == 0, err
    pop = json.loads(out.strip().splitlines()[0])
    assert pop["call_id"] == call_id and pop["route"] == "new_consumer" and pop["consumer"] is None
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            console.ws_url, headers={"Authorization": f"Bearer {await console.token('1002')}"}
        )
        await console.end(extension="1002", call_id=call_id)
        await next_of_type(ws, "clear", call_id=call_id)
        await ws.close()


async def test_watch_refuses_another_agents_extension_and_bad_passwords(console, service_env):
    env = watch_env(service_env, console, CRS_WATCH_PASSWORD="ben-demo-1002")
    other = crs("watch", "--agent", "1001", "--json", "--user", "ben", env=env)
    _, err = await asyncio.to_thread(other.communicate, timeout=30)
    assert other.returncode == 2 and "may not watch extension 1001" in err
    wrong = crs("watch", "--agent", "1002", "--user", "ben", "--password", "wrong-password", env=env)
    _, err = await asyncio.to_thread(wrong.communicate, timeout=30)
    assert wrong.returncode == 2 and "wrong username or password" in err
