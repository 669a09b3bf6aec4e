"""Pops reach the right agent's socket, and only theirs, through RabbitMQ and PostgreSQL."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.integration.console.fakes import ADA_ID, ADA_NUMBER, SHARED_NUMBER
from tests.integration.console.stack import SOURCE_DEADLINE_MS, next_message, next_of_type


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def hang_up(screenpop, ws, extension: str, call_id: str) -> None:
    """End the call and wait until its pop is cleared, so the next test starts with no current pop."""
    await screenpop.end(extension=extension, call_id=call_id)
    await next_of_type(ws, "clear", call_id=call_id)


async def open_socket(http, screenpop, who, **params):
    ws = await http.ws_connect(screenpop.ws_url, headers=bearer(await screenpop.token(who)), params=params)
    hello = await next_message(ws)
    assert hello["type"] == "hello"
    return ws


async def test_the_agent_of_the_rung_extension_gets_the_pop_and_the_other_does_not(screenpop):
    async with aiohttp.ClientSession() as http:
        ada = await open_socket(http, screenpop, "1001")
        ben = await open_socket(http, screenpop, "1002")
        call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
        pop = await next_of_type(ada, "pop")
        assert pop["call_id"] == call_id and pop["extension"] == "1001"
        assert pop["caller"] == {"number": ADA_NUMBER, "display": "CALLER", "withheld": False}
        assert pop["route"] == "consumer"
        assert pop["matches"][0] | {"last_contact_at": None} == {
            "consumer_id": ADA_ID,
            "name": "Ada Lovelace",
            "match": "exact",
            "current": True,
            "last_contact_at": None,
        }
        assert pop["consumer"]["name"] == "Ada Lovelace"
        assert pop["balance"]["display"] == "USD 42.50"
        assert pop["credit_terms"]["payment_terms"] == "Net 30"
        assert pop["credit_terms"]["status"] == "good_standing"
        assert pop["purchases"][0]["lines"][0]["name"] == "Oat crunch 500 g"
        assert pop["recent_contacts"][0]["summary"] == "Asked about allergens"
        assert pop["partial"] == []

        # Ben's first message must be his own call: Ada's pop, published earlier, would have come first.
        own = await screenpop.ring(extension="1002", number="+16145559999")
        first = await next_message(ben)
        assert first["type"] == "pop" and first["call_id"] == own and first["extension"] == "1002"
        assert first["route"] == "new_consumer" and first["caller"]["number"] == "+16145559999"
        await screenpop.end(extension="1001", call_id=call_id)
        await hang_up(screenpop, ben, "1002", own)
        await next_of_type(ada, "clear", call_id=call_id)
        await ada.close()
        await ben.close()


async def test_an_agent_cannot_ask_for_another_extension(screenpop):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                screenpop.ws_url, headers=bearer(await screenpop.token("1002")), params={"extension": "1001"}
            )
        assert refused.value.status == 403
        async with http.get(
            f"{screenpop.base}/api/pop",
            params={"extension": "1001"},
            headers=bearer(await screenpop.token("1002")),
        ) as reply:
            assert reply.status == 403


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-session"}, {"Cookie": "crs_session=forged"}]
)
async def test_an_unauthenticated_socket_is_refused(screenpop, headers):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(screenpop.ws_url, headers=headers)
        assert refused.value.status == 401


async def test_wrong_password_gives_no_token(screenpop):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{screenpop.base}/api/login", json={"username": "ada", "password": "guess"}
        ) as r:
            assert r.status == 401
        async with http.post(f"{screenpop.base}/api/login", data=b"{not json") as r:
            assert r.status == 400


async def test_a_supervisor_watches_the_whole_team(screenpop):
    async with aiohttp.ClientSession() as http:
        sam = await open_socket(http, screenpop, "supervisor")
        first = await screenpop.ring(extension="1001", number=ADA_NUMBER)
        second = await screenpop.ring(extension="1002", number="+16145550000")
        seen = {(await next_of_type(sam, "pop"))["call_id"], (await next_of_type(sam, "pop"))["call_id"]}
        assert seen == {first, second}
        await hang_up(screenpop, sam, "1001", first)
        await hang_up(screenpop, sam, "1002", second)
        await sam.close()


async def test_a_slow_billing_gives_a_partial_pop_within_the_deadline(screenpop):
    billing = screenpop.servers["billing"].servicer
    billing.slow = True
    try:
        async with aiohttp.ClientSession() as http:
            ada = await open_socket(http, screenpop, "1001")
            started = time.monotonic()
            call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
            pop = await next_of_type(ada, "pop")
            elapsed = time.monotonic() - started
            assert pop["call_id"] == call_id
            assert pop["partial"] == ["billing"]
            assert pop["balance"] is None and pop["credit_terms"] is None
            assert pop["purchases"], "fulfillment answered in time"
            # The pop waits for billing no longer than its deadline (plus the broker and a busy machine).
            assert elapsed < SOURCE_DEADLINE_MS / 1000 + 1.5
            await hang_up(screenpop, ada, "1001", call_id)
            await ada.close()
    finally:
        billing.slow = False


async def test_billing_stopped_still_pops_marked_partial(screenpop):
    billing = screenpop.servers["billing"]
    await billing.stop()
    try:
        async with aiohttp.ClientSession() as http:
            ada = await open_socket(http, screenpop, "1001")
            call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
            pop = await next_of_type(ada, "pop")
            assert pop["call_id"] == call_id
            assert pop["partial"] == ["billing"]
            assert pop["consumer"]["name"] == "Ada Lovelace"
            await hang_up(screenpop, ada, "1001", call_id)
            await ada.close()
    finally:
        await billing.start()


async def test_reconnecting_gets_the_current_pop_and_ending_the_call_clears_it(screenpop):
    async with aiohttp.ClientSession() as http:
        ada = await open_socket(http, screenpop, "1001")
        call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
        assert (await next_of_type(ada, "pop"))["call_id"] == call_id
        await ada.close()

        again = await open_socket(http, screenpop, "1001")
        replay = await next_message(again)
        assert replay["type"] == "pop" and replay["call_id"] == call_id and replay["replay"] is True
        assert replay["state"] == "ringing"

        await screenpop.answer(extension="1001", call_id=call_id)
        state = await next_of_type(again, "call_state")
        assert state == {"type": "call_state", "state": "answered", "call_id": call_id, "extension": "1001"}

        await screenpop.end(extension="1001", call_id=call_id)
        await next_of_type(again, "clear", call_id=call_id)
        await again.close()

        headers = bearer(await screenpop.token("1001"))
        async with http.get(f"{screenpop.base}/api/pop", headers=headers) as reply:
            assert (await reply.json()) == {"pop": None}
        after = await open_socket(http, screenpop, "1001")
        marker = await screenpop.ring(extension="1001", number="+16145551111")
        first = await next_message(after)
        assert first["call_id"] == marker, "the ended call's pop must not come back"
        await hang_up(screenpop, after, "1001", marker)
        await after.close()


async def test_a_repeated_ringing_pops_once(screenpop):
    async with aiohttp.ClientSession() as http:
        ada = await open_socket(http, screenpop, "1001")
        call_id = await screenpop.ring(extension="1001", number=ADA_NUMBER)
        await screenpop.ring(extension="1001", number=ADA_NUMBER, call_id=call_id)
        assert (await next_of_type(ada, "pop"))["call_id"] == call_id
        await screenpop.end(extension="1001", call_id=call_id)
        await next_of_type(ada, "clear", call_id=call_id)
        marker = await screenpop.ring(extension="1001", number="+16145552222")
        assert (await next_message(ada))["call_id"] == marker
        await hang_up(screenpop, ada, "1001", marker)
        await ada.close()


async def test_several_matches_pop_a_picker_and_withheld_says_so(screenpop):
    async with aiohttp.ClientSession() as http:
        ada = await open_socket(http, screenpop, "1001")
        shared = await screenpop.ring(extension="1001", number=SHARED_NUMBER)
        pop = await next_of_type(ada, "pop")
        assert pop["call_id"] == shared and pop["route"] == "picker"
        assert sorted(m["name"] for m in pop["matches"]) == ["Ada Lovelace", "Carol Ng"]
        assert pop["consumer"] is None
        await hang_up(screenpop, ada, "1001", shared)
        hidden = await screenpop.ring(extension="1001", withheld=True)
        pop = await next_of_type(ada, "pop")
        assert pop["call_id"] == hidden and pop["route"] == "withheld"
        assert pop["caller"]["withheld"] is True and pop["caller"]["number"] is None
        await hang_up(screenpop, ada, "1001", hidden)
        await ada.close()
