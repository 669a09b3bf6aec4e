"""The web form's figures in the console: a supervisor sees channels' tally; an agent is refused."""

from __future__ import annotations

from tests.integration.console.test_pages import browser, browser_login


async def test_a_supervisor_sees_the_deflections_and_an_agent_does_not(console):
    async with browser() as http:
        await browser_login(http, console.base, "sam", "sam-demo-super")
        async with http.get(f"{console.base}/") as reply:
            assert 'href="/web-form"' in await reply.text()
        async with http.get(f"{console.base}/web-form?days=7") as reply:
            assert reply.status == 200
            page = await reply.text()
        assert '<td id="deflected">12</td>' in page and '<td id="offered">40</td>' in page
        assert "oats-where-to-buy" in page and 'href="/web-form?days=7" aria-current="page"' in page
        async with http.get(f"{console.base}/web-form?days=5") as reply:
            assert reply.status == 400
    async with browser() as http:
        await browser_login(http, console.base, "ada", "ada-demo-1001")
        async with http.get(f"{console.base}/") as reply:
            assert 'href="/web-form"' not in await reply.text()
        async with http.get(f"{console.base}/web-form") as reply:
            assert reply.status == 403
