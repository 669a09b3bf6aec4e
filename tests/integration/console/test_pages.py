"""The console's pages over HTTP: log-in with a cookie, CSRF-safe forms, a consumer's page, creating one."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from tests.integration.console.fakes import ADA_ID


def browser() -> aiohttp.ClientSession:
    # The server is reached by IP address, whose cookies aiohttp only keeps when told to.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def browser_login(http: aiohttp.ClientSession, base: str, username: str, password: str):
    async with http.post(
        f"{base}/login",
        data={"username": username, "password": password},
        headers={"Origin": base},
        allow_redirects=False,
    ) as reply:
        return reply.status, reply.headers.get("Set-Cookie", ""), reply.headers.get("Location")


async def csrf_of(http, base) -> str:
    async with http.get(f"{base}/") as reply:
        assert reply.status == 200
        html = await reply.text()
    return re.search(r'<meta name="csrf" content="([^"]+)">', html).group(1)


async def test_log_in_sets_a_strict_httponly_cookie_and_shows_the_extension(console):
    async with browser() as http:
        status, cookie, location = await browser_login(http, console.base, "ada", "ada-demo-1001")
        assert status == 303 and location == "/"
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with http.get(f"{console.base}/") as reply:
            html = await reply.text()
            assert "Ada Moreno" in html and 'data-extension="1001"' in html
            assert 'data-extension="1002"' not in html
            assert "script-src 'self'" in reply.headers["Content-Security-Policy"]


async def test_wrong_password_and_cross_origin_log_in_are_refused(console):
    async with browser() as http:
        status, cookie, _ = await browser_login(http, console.base, "ada", "nope-nope")
        assert status == 401 and "crs_session" not in cookie
        async with http.post(
            f"{console.base}/login",
            data={"username": "ada", "password": "ada-demo-1001"},
            headers={"Origin": "http://evil.example"},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 403


async def test_a_page_without_a_session_goes_to_log_in(console):
    async with browser() as http:
        async with http.get(f"{console.base}/consumers/{ADA_ID}", allow_redirects=False) as reply:
            assert reply.status == 303 and reply.headers["Location"] == "/login"


async def test_the_consumer_page_shows_profile_balance_terms_purchases_and_recordings(console):
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        async with http.get(f"{console.base}/consumers/{ADA_ID}") as reply:
            assert reply.status == 200
            html = await reply.text()
        for expected in (
            "Ada Lovelace",
            "+16145550123",
            "ada@example.org",
            "USD 42.50",
            "Net 30",
            "good standing",
            "2 x Oat crunch 500 g",
            "INV-1001",
            "Asked about allergens",
            'href="/recordings/k-1-call%40test"',
        ):
            assert expected in html, expected
        # The signed link works for whoever holds it: a page never shows it.
        assert "sig=abc" not in html
        async with http.get(f"{console.base}/consumers/no-such-consumer") as reply:
            assert reply.status == 404


async def test_creating_a_consumer_from_the_pop_needs_the_csrf_token(console):
    contacts = console.servers["contacts"].servicer
    async with browser() as http:
        await browser_login(http, console.base, "ben", "ben-demo-1002")
        form = {"name": "Dora Diaz", "number": "+16145559999", "language": "es"}
        async with http.post(
            f"{console.base}/consumers",
            data=form,
            headers={"Origin": console.base},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 403
        assert not [c for c in contacts.created if c.name == "Dora Diaz"]

        token = await csrf_of(http, console.base)
        async with http.post(
            f"{console.base}/consumers",
            data={**form, "csrf": token},
            headers={"Origin": console.base},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 303
            location = reply.headers["Location"]
        created = [c for c in contacts.created if c.name == "Dora Diaz"]
        assert len(created) == 1 and created[0].phones[0].number == "+16145559999"
        assert location == f"/consumers/{created[0].id}"
        async with http.post(
            f"{console.base}/consumers",
            data={"name": "", "csrf": token},
            headers={"Origin": console.base},
        ) as reply:
            assert reply.status == 400 and "A name is needed." in await reply.text()


async def test_log_out_ends_the_session(console):
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        token = await csrf_of(http, console.base)
        async with http.post(
            f"{console.base}/logout",
            data={"csrf": token},
            headers={"Origin": console.base},
            allow_redirects=False,
        ) as reply:
            assert reply.status == 303
        async with http.get(f"{console.base}/", allow_redirects=False) as reply:
            assert reply.status == 303


async def test_a_socket_opened_with_the_cookie_from_another_site_is_refused(console):
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        ws_url = console.base.replace("http://", "ws://") + "/ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url, headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        ws = await http.ws_connect(ws_url, headers={"Origin": console.base})
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "hello"
        await ws.close()


async def test_a_late_billing_leaves_a_marked_gap_on_the_consumer_page_not_an_error(console):
    billing = console.servers["billing"].servicer
    billing.slow = True
    try:
        async with browser() as http:
            await browser_login(http, console.base, "ada", "ada-demo-1001")
            async with http.get(f"{console.base}/consumers/{ADA_ID}") as reply:
                assert reply.status == 200
                html = await reply.text()
    finally:
        billing.slow = False
    assert '<p class="gap">Billing: the service did not answer in time.</p>' in html
    assert "Ada Lovelace" in html and "2 x Oat crunch 500 g" in html and "Asked about allergens" in html
    assert 'data-role="balance"' not in html


async def test_every_change_by_cookie_needs_the_csrf_token_and_a_page_refusal_says_why(console):
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        async with http.post(
            f"{console.base}/logout", data={"csrf": "forged"}, headers={"Origin": console.base}
        ) as reply:
            assert reply.status == 403
            assert "the page expired: reload it and try again" in await reply.text()
        async with http.get(f"{console.base}/", allow_redirects=False) as reply:
            assert reply.status == 200  # still signed in: the forged log-out did nothing


async def test_a_browser_session_past_its_expiry_goes_back_to_log_in(console, database_url):
    import psycopg

    async with browser() as http:
        await browser_login(http, console.base, "ben", "ben-demo-1002")
        async with http.get(f"{console.base}/", allow_redirects=False) as reply:
            assert reply.status == 200
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                "UPDATE console.sessions SET expires_at = now() - interval '1 second'"
                " WHERE kind = 'browser' AND agent_id = (SELECT id FROM console.agents WHERE username = 'ben')"
            )
        async with http.get(f"{console.base}/", allow_redirects=False) as reply:
            assert reply.status == 303 and reply.headers["Location"] == "/login"
        async with http.get(f"{console.base}/api/me") as reply:
            assert reply.status == 401
