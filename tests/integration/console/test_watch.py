"""`crs watch --agent EXT` prints the pops of an extension as they arrive: one JSON object a line with
--json, else a line a person reads; it logs in with a token, a password given, or one typed at a prompt."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
import select
import subprocess
import sys
import termios

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
    await console.end_leftover_call("1001")
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


def _controlling_terminal() -> None:
    # In the child, after start_new_session's setsid: make standard input (the pty) its terminal, so
    # that getpass's /dev/tty is the test's pty.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def at_terminal(env: dict[str, str], terminal: int, *args: str) -> subprocess.Popen:
    """`crs ARGS` with `terminal` (a pty) as its standard input and controlling terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_controlling_terminal,
    )


async def test_watch_asks_for_the_password_at_a_terminal_and_prints_a_line_a_person_reads(
    console, service_env
):
    env = watch_env(service_env, console)
    env.pop("CRS_WATCH_PASSWORD", None)
    primary, secondary = os.openpty()
    await console.end_leftover_call("1001")
    before = await sockets_held(console)
    watcher = at_terminal(env, secondary, "watch", "--agent", "1001", "--user", "ada", "--count", "1")
    os.close(secondary)
    try:
        prompt = b""

        async def prompted() -> bool:
            nonlocal prompt
            ready, _, _ = select.select([primary], [], [], 0)
            if ready:
                prompt += os.read(primary, 1024)
            return b"password for ada: " in prompt

        await async_wait_for(prompted, timeout=20, interval=0.05, what="the password prompt")
        os.write(primary, b"ada-demo-1001\n")
        await async_wait_for(
            lambda: _more(console, before), timeout=20, interval=0.05, what="crs watch to hold a socket"
        )
        call_id = await console.ring(extension="1001", number=ADA_NUMBER)
        out, err = await asyncio.to_thread(watcher.communicate, timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
        os.close(primary)
    assert watcher.returncode == 0, err
    assert out.strip() == "ext 1001 | call from +16145550123 | consumer | Ada Lovelace | balance USD 42.50"
    await _hang_up(console, "1001", call_id)


async def test_watch_uses_the_url_it_is_given_over_the_environments(console, service_env):
    token = await console.token("1001")
    # The environment names a console that is not there; --url names the one that is.
    env = watch_env(service_env, console, CRS_WATCH_TOKEN=token, CRS_CONSOLE_URL="http://127.0.0.1:9")
    await console.end_leftover_call("1001")
    before = await sockets_held(console)
    watcher = crs("watch", "--agent", "1001", "--json", "--count", "1", "--url", console.base, env=env)
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
    assert json.loads(out)["call_id"] == call_id
    await _hang_up(console, "1001", call_id)


async def _hang_up(console, extension: str, call_id: str) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            console.ws_url, headers={"Authorization": f"Bearer {await console.token(extension)}"}
        )
        await console.end(extension=extension, call_id=call_id)
        await next_of_type(ws, "clear", call_id=call_id)
        await ws.close()
