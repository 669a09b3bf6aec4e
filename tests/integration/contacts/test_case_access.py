"""Casework's rules of access over gRPC against PostgreSQL: what each role's search may ask and shows,
who may move a case to another consumer, and who may link a filed call or play its recording."""

from __future__ import annotations

import uuid

import grpc
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import contacts_pb2

from services.runtime.principal import Principal
from tests.integration.contacts.case_support import Caller, ids
from tests.integration.contacts.test_call_filing import call_ended, publish
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for

TRAWL = (
    "an agent searches for a particular case: give a consumer, a case number, a phone number,"
    " or a name with another filter"
)


async def test_an_agent_cannot_trawl_cases_but_finds_one_by_its_number_phone_or_name(agent):
    lot = "AC" + uuid.uuid4().hex[:6]
    phone = "+1614555" + str(uuid.uuid4().int)[:4]
    case = await agent.capture(
        product=pb.Product(sku="COC-500", lot_code=lot),
        reporter=pb.Reporter(name="Morwenna Quist", phone=phone),
    )
    for request in (
        pb.SearchCasesRequest(),
        pb.SearchCasesRequest(lot_code=lot),
        pb.SearchCasesRequest(text="plastic", open_only=True),
        pb.SearchCasesRequest(reporter_name="Morwenna"),
    ):
        refused = await agent.refused("SearchCases", request)
        assert (refused.code(), refused.details()) == (grpc.StatusCode.PERMISSION_DENIED, TRAWL)
    too_many = await agent.refused("SearchCases", pb.SearchCasesRequest(reference=case.reference, limit=200))
    assert too_many.details() == "limit: an agent's page is at most 20"
    assert ids(await agent.SearchCases(pb.SearchCasesRequest(reference=case.reference))) == [case.id]
    assert ids(await agent.SearchCases(pb.SearchCasesRequest(reporter_phone=phone))) == [case.id]
    named = pb.SearchCasesRequest(reporter_name="morwenna q", lot_code=lot)
    assert ids(await agent.SearchCases(named)) == [case.id]


async def test_an_analyst_gets_cases_without_personal_data_and_cannot_search_by_person(agent, analyst):
    lot = "AN" + uuid.uuid4().hex[:6]
    await agent.capture(
        product=pb.Product(sku="COC-500", lot_code=lot),
        reporter=pb.Reporter(name="Ottoline Marsh", email="ottoline@example.com", phone="+16145550177"),
        verbatim="Ottoline Marsh here: glass in the jar, write to ottoline@example.com or 614 555 0177",
        notes="Called back at home",
    )
    (seen,) = (await analyst.SearchCases(pb.SearchCasesRequest(lot_code=lot))).cases
    assert (seen.reporter.name, seen.reporter.email, seen.reporter.phone, seen.notes) == ("", "", "", "")
    assert seen.verbatim == "[name] [name] here: glass in the jar, write to [email] or ********77"
    assert seen.product.lot_code == lot
    refused = await analyst.refused("SearchCases", pb.SearchCasesRequest(reporter_phone="+16145550177"))
    assert refused.details() == "an analyst searches by product, lot, issue, dates and words, never by person"


async def test_a_supervisor_lists_their_teams_cases_and_finds_another_teams_only_by_number(
    contacts, agent, supervisor
):
    lot = "SU" + uuid.uuid4().hex[:6]
    south = Caller(contacts.channel, "sol", extension="2001", team="south")
    ours = await agent.capture(product=pb.Product(sku="COC-500", lot_code=lot))
    theirs = await south.capture(product=pb.Product(sku="COC-500", lot_code=lot))
    assert ids(await supervisor.SearchCases(pb.SearchCasesRequest(lot_code=lot))) == [ours.id]
    by_number = pb.SearchCasesRequest(reference=theirs.reference)
    assert ids(await supervisor.SearchCases(by_number)) == [theirs.id]


async def test_moving_a_case_to_another_consumer_is_the_capturers_at_first_then_a_supervisors(
    contacts, agent, other_agent, supervisor
):
    first = await create(contacts, "First Consumer", "+1 614 555 0871")
    second = await create(contacts, "Second Consumer", "+1 614 555 0872")
    case = await agent.capture(consumer_id=first.id)

    def move(to: str) -> pb.UpdateCaseRequest:
        return pb.UpdateCaseRequest(
            case=pb.Case(id=case.id, consumer_id=to), update_mask={"paths": ["consumer_id"]}
        )

    refused = await other_agent.refused("UpdateCase", move(second.id))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.details().startswith("an agent may move a case to another consumer only within 30 minutes")
    assert (await agent.UpdateCase(move(second.id))).consumer_id == second.id
    assert (await supervisor.UpdateCase(move(first.id))).consumer_id == first.id
    timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case.id))
    moves = [
        (e.kind, e.actor, e.changes[0].before, e.changes[0].after)
        for e in timeline.events
        if e.kind == "moved"
    ]
    assert moves == [
        ("moved", "alice", f'"{first.id}"', f'"{second.id}"'),
        ("moved", "sam", f'"{second.id}"', f'"{first.id}"'),
    ]


async def test_a_filed_call_is_linked_and_its_recording_played_only_within_the_desk_or_team(
    contacts, amqp_url, agent, other_agent, supervisor
):
    consumer = await create(contacts, "Caller On 1001", "+1 614 555 0873")
    call_id = await publish(amqp_url, call_ended(number="+16145550873", recording_key="2026/12/02/a.wav"))
    filed = await async_wait_for(
        lambda: _filed(agent, call_id), timeout=20, what="the call taken at 1001 to be filed"
    )
    assert filed.extension == "1001"
    case = await agent.capture(consumer_id=consumer.id)
    link = pb.LinkCallRequest(id=case.id, call_id=call_id)
    refused = await other_agent.refused("LinkCall", link)
    assert (refused.code(), refused.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "you may link only a call you took at your extension or, as a supervisor, a call of your team",
    )
    assert (
        await other_agent.refused("CreateCase", _capture_on(call_id))
    ).code() == grpc.StatusCode.PERMISSION_DENIED
    assert list((await agent.LinkCall(link)).call_ids) == [call_id]

    playback = pb.GetCallRequest(call_id=call_id, for_playback=True)
    assert (await supervisor.GetCall(playback)).recording_key == "2026/12/02/a.wav"
    south = Caller(contacts.channel, "una", "supervisor", team="south", team_extensions=frozenset({"2001"}))
    assert (
        await south.refused("GetCall", playback)
    ).details() == "this recording is of a call outside your team"
    assert (await agent.refused("GetCall", playback)).details() == "only a supervisor plays recordings"


async def _filed(caller: Caller, call_id: str):
    try:
        return await caller.GetCall(pb.GetCallRequest(call_id=call_id))
    except grpc.aio.AioRpcError:
        return None


def _capture_on(call_id: str) -> pb.CreateCaseRequest:
    return pb.CreateCaseRequest(
        case=pb.Case(issue_code="complaint.quality.foreign_object.plastic", call_ids=[call_id])
    )


async def test_an_agent_lists_consumers_only_by_name_and_one_small_page(contacts):
    await create(contacts, "Zebedee Listing", "+1 614 555 0874")
    agent = Principal("alice", "agent", extension="1001").metadata()
    for request, message in (
        (contacts_pb2.ListConsumersRequest(), "search for a consumer by name: give at least 3 letters of it"),
        (
            contacts_pb2.ListConsumersRequest(name_prefix="Ze"),
            "search for a consumer by name: give at least 3 letters of it",
        ),
        (
            contacts_pb2.ListConsumersRequest(name_prefix="Zeb", page_token="x|y"),
            "an agent gets one page of consumers: give more of the name",
        ),
    ):
        try:
            await contacts.stub.ListConsumers(request, metadata=agent)
        except grpc.aio.AioRpcError as refused:
            assert (refused.code(), refused.details()) == (grpc.StatusCode.PERMISSION_DENIED, message)
        else:
            raise AssertionError(f"{request} was answered")
    found = await contacts.stub.ListConsumers(
        contacts_pb2.ListConsumersRequest(name_prefix="Zebedee"), metadata=agent
    )
    assert "Zebedee Listing" in [c.name for c in found.consumers] and found.next_page_token == ""
