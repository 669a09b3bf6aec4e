"""Log-ins that an attacker cannot grind, and an access log that says who saw whose data.

This module runs its own console: a storm blocks its client address for a while, and locks its account.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import psycopg
import pytest

from services.console.seed import SCHEMA, upsert_agent
from services.runtime import db
from tests.integration.console.fakes import ADA_ID
from tests.integration.console.stack import next_of_type, start_stack

STORM_TARGET = ("storm-target", "the-right-password-1")
ADMIN = ("ada-admin", "admin-password-1")
ANALYST = ("ana-analyst", "analyst-password-1")
STORM = 500


@pytest.fixture(scope="module")
async def console(service_env, database_url, amqp_url, tmp_path_factory):
    with db.connect(database_url, schema=SCHEMA) as conn:
        for (username, password), role, extension in (
            (STORM_TARGET, "agent", "1777"),
            (ADMIN, "admin", None),
            (ANALYST, "analyst", None),
        ):
            upsert_agent(
                conn,
                username=username,
                display_name=username,
                password=password,
                role=role,
                extension=extension,
                team_id=None,
            )
        conn.commit()
    stack = start_stack(service_env, database_url, amqp_url, tmp_path_factory.mktemp("storm"))
    yield await anext(stack)
    await stack.aclose()


async def api_login(http, base, username, password) -> tuple[int, dict]:
    async with http.post(f"{base}/api/login", json={"username": username, "password": password}) as reply:
        return reply.status, await reply.json()


async def bearer(http, base, username, password) -> dict:
    status, body = await api_login(http, base, username, password)
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


async def test_reading_a_consumer_is_in_the_access_log_which_a_supervisor_may_read_and_an_agent_not(console):
    async with aiohttp.ClientSession() as http:
        agent = {"Authorization": f"Bearer {await console.token('1002')}"}
        async with http.get(f"{console.base}/api/consumers/{ADA_ID}", headers=agent) as reply:
            assert reply.status == 200
        async with http.get(f"{console.base}/api/audit", headers=agent) as reply:
            assert reply.status == 403
            assert "audit.read" in (await reply.json())["error"]
        supervisor = {"Authorization": f"Bearer {await console.token('supervisor')}"}
        async with http.get(
            f"{console.base}/api/audit", params={"subject": ADA_ID}, headers=supervisor
        ) as reply:
            assert reply.status == 200
            entries = (await reply.json())["entries"]
    assert {"actor": "ben", "action": "consumer.read", "subject": ADA_ID} in [
        {k: e[k] for k in ("actor", "action", "subject")} for e in entries
    ]


async def test_the_access_log_cannot_be_rewritten_by_the_console_itself(console, database_url):
    with db.connect(database_url, schema=SCHEMA, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM access_log")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE access_log SET actor = 'nobody'")


async def test_an_analyst_sees_trends_but_no_consumer_and_no_queue(console):
    async with aiohttp.ClientSession() as http:
        analyst = await bearer(http, console.base, *ANALYST)
        async with http.get(f"{console.base}/api/consumers/{ADA_ID}", headers=analyst) as reply:
            assert reply.status == 403
        async with http.get(f"{console.base}/api/queue", headers=analyst) as reply:
            assert reply.status == 403
            assert "cases.queue" in (await reply.json())["error"]


async def test_forged_expired_and_revoked_tokens_are_refused(console, database_url, service_env):
    import secrets
    import subprocess
    import sys
    from datetime import timedelta

    import jwt

    from services.console.tokens import API, TokenKeys

    async def me(http, token: str) -> int:
        async with http.get(f"{console.base}/api/me", headers={"Authorization": f"Bearer {token}"}) as reply:
            return reply.status

    def session_of(token: str) -> str:
        return jwt.decode(token, options={"verify_signature": False})["jti"]

    async with aiohttp.ClientSession() as http:
        expiring = (await api_login(http, console.base, *ANALYST))[1]["token"]
        revoked = (await api_login(http, console.base, *ANALYST))[1]["token"]
        assert await me(http, expiring) == 200 and await me(http, revoked) == 200
        assert await me(http, secrets.token_urlsafe(32)) == 401  # not a token at all
        # The live session's own id, signed with the right kid but a secret of our own.
        forged = TokenKeys.parse("dev:" + "f" * 40).issue(
            session_id=session_of(expiring), audience=API, ttl=timedelta(hours=1), now=time.time()
        )
        assert await me(http, forged) == 401
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE console.sessions SET expires_at = now() - interval '1 second' WHERE id = %s",
                (session_of(expiring),),
            )
        assert await me(http, expiring) == 401  # its session expired, though the token has hours left
        disabled = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.cli.main", "agent", "disable", ANALYST[0]],
            env=service_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        try:
            assert disabled.returncode == 0, disabled.stderr
            assert await me(http, revoked) == 401  # the agent was disabled: at once
        finally:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("UPDATE console.agents SET active = true WHERE username = %s", (ANALYST[0],))


async def test_a_browser_cookie_is_no_bearer_token_and_a_bearer_token_no_cookie(console):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            f"{console.base}/login",
            data={"username": ANALYST[0], "password": ANALYST[1]},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 303
            cookie = reply.cookies["crs_session"].value
        async with http.get(f"{console.base}/api/me") as reply:
            assert reply.status == 200
    bearer_token = None
    async with aiohttp.ClientSession() as http:
        bearer_token = (await api_login(http, console.base, *ANALYST))[1]["token"]
        async with http.get(f"{console.base}/api/me", headers={"Authorization": f"Bearer {cookie}"}) as reply:
            assert reply.status == 401
    async with aiohttp.ClientSession(cookies={"crs_session": bearer_token}) as http:
        async with http.get(f"{console.base}/api/me") as reply:
            assert reply.status == 401


# Last: the storm leaves this console refusing log-ins from 127.0.0.1 for a minute.
async def test_a_login_storm_locks_the_account_and_pops_still_arrive_in_their_usual_time(
    console, database_url
):
    async with aiohttp.ClientSession() as http:
        admin = await bearer(http, console.base, *ADMIN)
        ws = await http.ws_connect(
            console.ws_url, headers={"Authorization": f"Bearer {await console.token('1001')}"}
        )
        await next_of_type(ws, "hello")

        async def pop_delay() -> float:
            started = time.monotonic()
            call_id = await console.ring(extension="1001", number="+16145550101")
            await next_of_type(ws, "pop", call_id=call_id, timeout=5)
            await console.end(extension="1001", call_id=call_id)
            return time.monotonic() - started

        quiet = min([await pop_delay() for _ in range(3)])

        async def wrong(index: int) -> int:
            status, _ = await api_login(http, console.base, STORM_TARGET[0], f"wrong-{index}")
            return status

        storm = asyncio.gather(*(wrong(i) for i in range(STORM)))
        during = [await pop_delay() for _ in range(3)]
        statuses = await storm
        await ws.close()

        assert set(statuses) <= {401, 429} and statuses.count(429) >= STORM - 30, (
            "the storm was not throttled"
        )
        # The pop's usual time: the typical pop during the storm within a second of a quiet one, and none
        # later than the page's whole budget (1.5 s of source deadlines) on top of it.
        assert sorted(during)[1] < quiet + 1.0, (quiet, during)
        assert max(during) < quiet + 1.5 + 1.0, (quiet, during)
        status, _ = await api_login(http, console.base, *STORM_TARGET)
        assert status == 429, "the right password must not open a locked account, nor a throttled address"

        # An admin lifts the lockout, and the log says who did.
        async with http.post(f"{console.base}/api/agents/{STORM_TARGET[0]}/unlock", headers=admin) as reply:
            assert reply.status == 200
    with psycopg.connect(database_url) as conn:
        locked = conn.execute(
            "SELECT locked_until FROM console.agents WHERE username = %s", (STORM_TARGET[0],)
        ).fetchone()[0]
        actions = dict(
            conn.execute(
                "SELECT action, count(*) FROM console.access_log WHERE subject = %s GROUP BY action",
                (STORM_TARGET[0],),
            ).fetchall()
        )
        addresses = {
            a
            for (a,) in conn.execute(
                "SELECT DISTINCT client_address FROM console.access_log WHERE subject = %s",
                (STORM_TARGET[0],),
            )
        }
    assert locked is None
    assert actions["login.failed"] >= 9 and actions["login.locked"] >= 1 and actions["account.unlock"] == 1
    assert addresses == {"127.0.0.1"}
