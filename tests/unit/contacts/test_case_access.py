"""Who may move a case to another consumer and link a call, through the use cases and a fake unit of work;
what a search may ask for and show, role by role (domain/access.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.contacts.casework.domain import access
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.records import Reporter
from services.contacts.casework.exceptions import Forbidden, InvalidInput
from services.contacts.casework.views import Query
from tests.unit.contacts.fakes import Clock, FakeConsumers, casework, ended_call

PLASTIC = "complaint.quality.foreign_object.plastic"
INJURY = "complaint.illness_injury"
FIRST = "5b0e5d0e-0000-4000-8000-000000000001"
SECOND = "5b0e5d0e-0000-4000-8000-000000000002"
ADA = Actor("ada", "agent", extension="1001", team="north")
BEN = Actor("ben", "agent", extension="1002", team="north")
SAM = Actor("sam", "supervisor", team="north", team_extensions=frozenset({"1001", "1002"}))
UNA = Actor("una", "supervisor", team="south", team_extensions=frozenset({"2001"}))
ROOT = Actor("root", "admin")
QA = Actor("quinn", "analyst")


@pytest.fixture
async def service():
    clock = Clock()
    made, db = casework(consumers=FakeConsumers(known={FIRST, SECOND}), clock=clock)
    yield made, db, clock
    await made.capture.close()


async def captured(service, by: Actor = ADA, **data) -> Case:
    data.setdefault("issue_code", PLASTIC)
    data.setdefault("consumer_id", FIRST)
    return await service.create(data=data, actor=by)


async def move(service, case: Case, by: Actor, to: str | None = SECOND) -> Case:
    return await service.update(
        case_id=case.id, data={"consumer_id": to}, fields_named={"consumer_id"}, actor=by
    )


# -- moving a case to another consumer --


async def test_an_agent_attaches_a_case_that_has_no_consumer(service):
    service, db, clock = service
    case = await captured(service, by=BEN, consumer_id=None)
    clock.now += timedelta(days=3)
    moved = await move(service, case, ADA)
    assert moved.consumer_id == SECOND
    assert db.kinds(case.id) == [("created", "ben"), ("updated", "ada")]


async def test_the_capturing_agent_moves_the_case_within_30_minutes_and_the_timeline_shows_before_and_after(
    service,
):
    service, db, clock = service
    case = await captured(service)
    clock.now += timedelta(minutes=29)
    moved = await move(service, case, ADA)
    assert moved.consumer_id == SECOND
    entry = db.timeline[case.id][-1]
    assert (entry.kind, entry.actor) == ("moved", "ada")
    assert entry.changes == {"consumer_id": {"before": FIRST, "after": SECOND}}
    assert entry.note == f"moved from consumer {FIRST} to {SECOND}"


async def test_an_agent_may_not_move_a_case_later_or_another_agents_and_nothing_is_written(service):
    service, db, clock = service
    case = await captured(service)
    clock.now += timedelta(minutes=31)
    with pytest.raises(Forbidden) as late:
        await move(service, case, ADA)
    assert str(late.value) == (
        "an agent may move a case to another consumer only within 30 minutes of capturing it,"
        " and never an escalated or health-and-safety case: ask a supervisor of the team"
    )
    fresh = await captured(service)
    with pytest.raises(Forbidden):
        await move(service, fresh, BEN)
    with pytest.raises(Forbidden):
        await move(service, fresh, BEN, to=None)  # detaching is a move too
    assert db.cases[case.id].consumer_id == FIRST and db.cases[fresh.id].consumer_id == FIRST
    assert db.kinds(case.id) == [("created", "ada")]


async def test_an_agent_may_not_move_an_escalated_or_health_and_safety_case_even_at_once(service):
    service, db, _ = service
    injury = await captured(service, issue_code=INJURY)
    with pytest.raises(Forbidden):
        await move(service, injury, ADA)
    plastic = await captured(service)
    await service.escalate(case_id=plastic.id, reason="a lot of them", actor="ada")
    with pytest.raises(Forbidden):
        await move(service, plastic, ADA)
    assert {db.cases[injury.id].consumer_id, db.cases[plastic.id].consumer_id} == {FIRST}


async def test_a_supervisor_of_the_team_moves_any_of_its_cases_one_of_another_team_may_not(service):
    service, db, clock = service
    injury = await captured(service, issue_code=INJURY)
    clock.now += timedelta(days=2)
    with pytest.raises(Forbidden) as other_team:
        await move(service, injury, UNA)
    assert str(other_team.value) == (
        "only a supervisor of the team that captured this case may move it to another consumer"
    )
    moved = await move(service, injury, SAM)
    assert moved.consumer_id == SECOND
    assert db.kinds(injury.id)[-1] == ("moved", "sam")


async def test_an_admin_does_no_case_work(service):
    service, db, _ = service
    case = await captured(service)
    with pytest.raises(Forbidden) as refused:
        await move(service, case, ROOT)
    assert str(refused.value) == "an admin does no case work"
    assert db.cases[case.id].consumer_id == FIRST


# -- linking calls --


async def test_an_agent_links_a_call_they_took_and_no_one_elses(service):
    service, db, _ = service
    await service.file_call(ended_call("mine@pbx", extension="1001"))
    await service.file_call(ended_call("bens@pbx", number="+16145550199", extension="1002"))
    case = await captured(service)
    linked = await service.link_call(case_id=case.id, call_id="mine@pbx", actor=ADA)
    assert linked.call_ids == ["mine@pbx"]
    with pytest.raises(Forbidden) as refused:
        await service.link_call(case_id=case.id, call_id="bens@pbx", actor=ADA)
    assert str(refused.value) == (
        "you may link only a call you took at your extension or, as a supervisor, a call of your team"
    )
    assert db.cases[case.id].call_ids == ["mine@pbx"]


async def test_a_capture_on_someone_elses_filed_call_is_refused_and_the_call_stays_uncoded(service):
    service, db, _ = service
    contact_id = await service.file_call(ended_call("bens@pbx", extension="1002"))
    with pytest.raises(Forbidden):
        await service.create(data={"issue_code": PLASTIC}, actor=ADA, call_id="bens@pbx")
    assert db.cases[contact_id].issue_code is None and len(db.cases) == 1
    coded = await service.create(data={"issue_code": PLASTIC}, actor=BEN, call_id="bens@pbx")
    assert (coded.id, coded.created_by, coded.team) == (contact_id, "ben", "north")


async def test_a_supervisor_links_calls_of_their_team_only(service):
    service, _db, _ = service
    await service.file_call(ended_call("team@pbx", extension="1002"))
    await service.file_call(ended_call("south@pbx", number="+16145550199", extension="2001"))
    case = await captured(service)
    assert (await service.link_call(case_id=case.id, call_id="team@pbx", actor=SAM)).call_ids == ["team@pbx"]
    with pytest.raises(Forbidden):
        await service.link_call(case_id=case.id, call_id="south@pbx", actor=SAM)


async def test_a_call_not_filed_yet_is_linked_only_by_someone_at_an_extension(service):
    service, _db, _ = service
    case = await captured(service)
    assert (await service.link_call(case_id=case.id, call_id="live@pbx", actor=ADA)).call_ids == ["live@pbx"]
    with pytest.raises(Forbidden) as refused:
        await service.link_call(case_id=case.id, call_id="other@pbx", actor=SAM)
    assert str(refused.value) == (
        "this call is not filed yet: only the person at the extension taking it may link it"
    )


def test_a_recording_plays_for_a_supervisor_of_the_calls_team_only():
    access.check_playback(actor=SAM, call_extension="1002")
    for who, extension, reason in (
        (UNA, "1002", "this recording is of a call outside your team"),
        (SAM, "", "this recording is of a call outside your team"),
        (ADA, "1001", "only a supervisor plays recordings"),
    ):
        with pytest.raises(Forbidden) as refused:
            access.check_playback(actor=who, call_extension=extension)
        assert str(refused.value) == reason


# -- search --


def test_an_agent_must_search_for_someone_in_particular_and_gets_20_at_most():
    for query in (
        Query(),
        Query(text="plastic"),
        Query(product="COC-500", lot_code="L1"),
        Query(reporter_name="Jo"),
        Query(reporter_name="J", product="COC-500"),
    ):
        with pytest.raises(Forbidden) as refused:
            access.search_scope(query, actor=ADA)
        assert str(refused.value) == (
            "an agent searches for a particular case: give a consumer, a case number, a phone number,"
            " or a name with another filter"
        )
    with pytest.raises(InvalidInput) as too_many:
        access.search_scope(Query(consumer_id=FIRST, limit=200), actor=ADA)
    assert str(too_many.value) == "limit: an agent's page is at most 20"
    with pytest.raises(InvalidInput):
        access.search_scope(Query(consumer_id=FIRST, offset=100), actor=ADA)
    assert access.search_scope(Query(consumer_id=FIRST), actor=ADA) == Query(consumer_id=FIRST, limit=20)
    assert access.search_scope(Query(reference=1042), actor=ADA).limit == 20
    assert access.search_scope(Query(reporter_phone="+16145550123", limit=5), actor=ADA).limit == 5
    named = Query(reporter_name="Jo Smith", product="COC-500")
    assert access.search_scope(named, actor=ADA) == Query(
        reporter_name="Jo Smith", product="COC-500", limit=20
    )


def test_a_supervisor_lists_their_own_teams_cases_and_finds_any_particular_one():
    assert access.search_scope(Query(open_only=True), actor=SAM) == Query(
        open_only=True, limit=50, team="north"
    )
    assert access.search_scope(Query(reference=7), actor=SAM) == Query(reference=7, limit=50)
    with pytest.raises(Forbidden):
        access.search_scope(Query(), actor=Actor("sol", "supervisor"))
    with pytest.raises(InvalidInput):
        access.search_scope(Query(reference=7, limit=51), actor=SAM)


def test_an_analyst_searches_without_people_and_sees_no_personal_data():
    assert access.search_scope(Query(lot_code="L1"), actor=QA) == Query(lot_code="L1", limit=200)
    for query in (
        Query(consumer_id=FIRST),
        Query(reporter_phone="+16145550123"),
        Query(reporter_name="Jo", text="x"),
    ):
        with pytest.raises(Forbidden) as refused:
            access.search_scope(query, actor=QA)
        assert (
            str(refused.value)
            == "an analyst searches by product, lot, issue, dates and words, never by person"
        )
    case = Case(
        id="c1",
        consumer_id=FIRST,
        reporter=Reporter(name="Jo Smith", email="jo@example.com", phone="+16145550123"),
        verbatim="Jo Smith here, call me on 614 555 0123 or jo@example.com: smith family found glass",
        notes="Spoke to Mrs Smith at home",
        call_id="call@pbx",
        call_ids=["call@pbx"],
    )
    [seen] = access.shown([case], actor=QA)
    assert (seen.consumer_id, seen.reporter, seen.notes, seen.call_ids, seen.call_id) == (
        None,
        Reporter(),
        "",
        [],
        None,
    )
    assert seen.verbatim == "[name] [name] here, call me on ********23 or [email]: [name] family found glass"
    assert access.shown([case], actor=SAM) == [case] and case.reporter.name == "Jo Smith"


def test_an_admin_searches_no_cases():
    with pytest.raises(Forbidden) as refused:
        access.search_scope(Query(reference=7), actor=ROOT)
    assert str(refused.value) == "an admin does no case work"
