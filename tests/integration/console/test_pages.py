"""The console's pages over HTTP: log-in with a cookie, CSRF-safe forms, a consumer's page, creating one."""

from __future__ import annotations

import re

import aiohttp

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
