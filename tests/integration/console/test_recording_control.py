"""PCI pause and resume from the live pop: the agent the call is popped to, or a supervisor of their team,
controls the call's recording through telephony; anyone else is refused."""

from __future__ import annotations

import aiohttp

from tests.support.wait import async_wait_for


async def post(console, who: str | None, call_id: str, action: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {await console.token(who)}"} if who else {}
    url = f"{console.base}/api/calls/{call_id}/recording/{action}"
    async with aiohttp.ClientSession() as http, http.post(url, headers=headers) as reply:
        return reply.status, await reply.json()


async def state(console, who: str, call_id: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {await console.token(who)}"}
    url = f"{console.base}/api/calls/{call_id}/recording"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as reply:
        return reply.status, await reply.json()


async def call_on_screen(
    console, extension: str, replica: str = "telephony", *, announced: bool = False
) -> str:
    """A call rung and answered on `extension`, in progress at the `replica` of telephony, once it is the
    current pop; `announced`: its ringing names that replica's control address."""
    await console.end_leftover_call(extension)
    server = console.servers[replica]
    call_id = await console.ring(
        extension=extension, number="+16145550999", control_address=server.target if announced else ""
    )
    server.servicer.in_progress.add(call_id)
    await console.answer(extension=extension, call_id=call_id)
    headers = {"Authorization": f"Bearer {await console.token(extension)}"}

    async def popped() -> bool:
        async with aiohttp.ClientSession() as http:
            url = f"{console.base}/api/pop?extension={extension}"
            async with http.get(url, headers=headers) as reply:
                pop = (await reply.json())["pop"]
        return pop is not None and pop["call_id"] == call_id

    await async_wait_for(popped, timeout=10, what="the call to pop")
    return call_id


async def test_the_agent_on_the_call_pauses_and_resumes_its_recording(console):
    call_id = await call_on_screen(console, "1001")
    telephony = console.servers["telephony"].servicer

    status, body = await post(console, "1001", call_id, "pause")
    assert (status, body) == (200, {"call_id": call_id, "paused": True, "changed": True})
    assert call_id in telephony.paused
    assert ("PauseRecording", "ada", call_id) in telephony.actors

    status, body = await post(console, "1001", call_id, "resume")
    assert (status, body) == (200, {"call_id": call_id, "paused": False, "changed": True})
    assert call_id not in telephony.paused


async def test_a_pop_drawn_again_reads_whether_the_recording_is_paused(console):
    call_id = await call_on_screen(console, "1001")
    assert await state(console, "1001", call_id) == (
        200,
        {"call_id": call_id, "paused": False, "changed": False},
    )
    assert (await post(console, "1001", call_id, "pause"))[0] == 200
    assert await state(console, "1001", call_id) == (
        200,
        {"call_id": call_id, "paused": True, "changed": False},
    )
    assert await state(console, "supervisor", call_id) == (
        200,
        {"call_id": call_id, "paused": True, "changed": False},
    )
    status, body = await state(console, "1002", call_id)  # another agent: not theirs to read
    assert status == 403 and "only the agent on this call" in body["error"]
    console.servers["telephony"].servicer.in_progress.discard(call_id)
    assert (await state(console, "1001", call_id))[0] == 404


async def test_another_agent_is_refused_and_telephony_is_not_asked(console):
    call_id = await call_on_screen(console, "1001")
    telephony = console.servers["telephony"].servicer

    status, body = await post(console, "1002", call_id, "pause")
    assert status == 403
    assert "only the agent on this call" in body["error"]
    assert not [a for a in telephony.actors if a[1] == "ben"]
    assert call_id not in telephony.paused


async def test_a_supervisor_of_the_team_resumes_what_the_agent_paused(console):
    call_id = await call_on_screen(console, "1001")
    telephony = console.servers["telephony"].servicer
    assert (await post(console, "1001", call_id, "pause"))[0] == 200

    status, body = await post(console, "supervisor", call_id, "resume")
    assert (status, body["paused"]) == (200, False)
    assert ("ResumeRecording", "sam", call_id) in telephony.actors


async def test_a_call_telephony_does_not_have_in_progress_is_a_404(console):
    call_id = await call_on_screen(console, "1001")
    console.servers["telephony"].servicer.in_progress.discard(call_id)

    status, body = await post(console, "1001", call_id, "pause")
    assert status == 404
    assert body["error"] == "no such call in progress, or it is not recorded"


async def test_without_a_session_it_is_a_401(console):
    call_id = await call_on_screen(console, "1001")
    status, _ = await post(console, None, call_id, "pause")
    assert status == 401


async def test_a_pause_reaches_the_replica_the_call_s_ringing_names_and_no_other(console):
    call_id = await call_on_screen(console, "1001", "telephony-2", announced=True)
    default, replica = console.servers["telephony"].servicer, console.servers["telephony-2"].servicer

    assert (await post(console, "1001", call_id, "pause"))[1]["paused"] is True
    assert await state(console, "1001", call_id) == (
        200,
        {"call_id": call_id, "paused": True, "changed": False},
    )
    assert call_id in replica.paused
    assert ("PauseRecording", "ada", call_id) in replica.actors
    assert not [a for a in default.actors if a[2] == call_id]  # the default replica was never asked
    # Where the call is held stays between the services: the browser is never told.
    headers = {"Authorization": f"Bearer {await console.token('1001')}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{console.base}/api/pop?extension=1001", headers=headers) as reply:
            pop = (await reply.json())["pop"]
    assert pop["call_id"] == call_id and "telephony_control" not in pop


async def test_a_replica_address_answered_by_another_service_s_certificate_is_not_trusted(console):
    call_id = await call_on_screen(console, "1001", "impostor", announced=True)
    status, _ = await post(console, "1001", call_id, "pause")
    assert status == 503  # the TLS handshake fails: nothing is paused, and nothing pretends it was
    assert console.servers["impostor"].servicer.actors == []
