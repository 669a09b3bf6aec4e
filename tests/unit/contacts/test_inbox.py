"""The inbox's rules through its use cases, against the fake unit of work: claims, refusals while another
person holds a case, follow-ups and their reminders, assignment rules and a team's workload."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.contacts.casework.domain import inbox as inbox_rules
from services.contacts.casework.domain.access import Actor
from services.contacts.casework.domain.claims import ClaimHeld
from services.contacts.casework.exceptions import Forbidden, InvalidInput, Refused
from tests.unit.contacts.fakes import NOW, Clock, casework, inbox

ADA = Actor("ada", "agent", team="care-1")
BEN = Actor("ben", "agent", team="care-1")
SAM = Actor("sam", "supervisor", team="care-1")
CHANNELS = ("phone", "email", "letter", "chat", "web")


@pytest.fixture
async def parts():
    clock = Clock()
    service, db = casework(clock=clock)
    yield service, inbox(db, clock=clock), db, clock
    await service.capture.close()


async def an_email(service):
    return await service.create(
        data={"issue_code": "question", "channel": "email", "verbatim": "Where can I buy it?"},
        actor="channels",
    )


async def test_the_second_claim_is_refused_naming_the_holder_until_the_first_expires(parts):
    service, box, _db, clock = parts
    case = await an_email(service)
    claim = await box.claim(case_id=case.id, actor=ADA)
    assert (claim.agent, claim.expires_at) == ("ada", NOW + timedelta(minutes=15))
    with pytest.raises(ClaimHeld, match="ada claimed this case"):
        await box.claim(case_id=case.id, actor=BEN)
    clock.now = NOW + timedelta(minutes=15, seconds=1)
    assert (await box.claim(case_id=case.id, actor=BEN)).agent == "ben"


async def test_claiming_again_extends_ones_own_claim(parts):
    service, box, _db, clock = parts
    case = await an_email(service)
    await box.claim(case_id=case.id, actor=ADA)
    clock.now = NOW + timedelta(minutes=10)
    again = await box.claim(case_id=case.id, actor=ADA, minutes=30)
    assert again.expires_at == NOW + timedelta(minutes=40)


async def test_a_person_may_not_change_a_case_another_holds_but_a_service_may(parts):
    service, box, db, _clock = parts
    case = await an_email(service)
    await box.claim(case_id=case.id, actor=ADA)
    with pytest.raises(ClaimHeld, match="your change was not saved"):
        await service.add_action(case_id=case.id, action_code="replied", note="", actor=BEN)
    with pytest.raises(ClaimHeld):
        await service.change_status(case_id=case.id, status="in_progress", note="", actor=BEN)
    with pytest.raises(ClaimHeld):
        await service.update(case_id=case.id, data={"notes": "x"}, fields_named={"notes"}, actor=BEN)
    assert db.cases[case.id].action_codes == []
    # The consumer's answer arriving by email is not an agent answering.
    await service.add_action(case_id=case.id, action_code="replied", note="", actor="channels")
    await service.add_action(case_id=case.id, action_code="coupon_sent", note="", actor=ADA)
    assert db.cases[case.id].action_codes == ["replied", "coupon_sent"]


async def test_only_the_holder_or_a_supervisor_releases_a_claim(parts):
    service, box, _db, _clock = parts
    case = await an_email(service)
    await box.claim(case_id=case.id, actor=ADA)
    with pytest.raises(Forbidden, match="ada holds this case"):
        await box.release(case_id=case.id, actor=BEN, may_release_others=False)
    await box.release(case_id=case.id, actor=SAM, may_release_others=True)
    assert (await box.claim(case_id=case.id, actor=BEN)).agent == "ben"
    await box.release(case_id=case.id, actor=BEN, may_release_others=False)
    with pytest.raises(Refused, match="nobody holds"):
        await box.release(case_id=case.id, actor=ADA, may_release_others=False)


async def test_a_case_assigned_to_another_agent_or_closed_cannot_be_claimed(parts):
    service, box, db, _clock = parts
    case = await an_email(service)
    await service.assign(case_id=case.id, assignee="ben", actor=SAM)
    with pytest.raises(ClaimHeld, match="assigned to ben"):
        await box.claim(case_id=case.id, actor=ADA)
    db.cases[case.id].status = "closed"
    with pytest.raises(Refused, match="nothing to answer"):
        await box.claim(case_id=case.id, actor=BEN)


async def test_a_follow_up_reminds_its_assignee_once_when_due(parts):
    service, box, db, _clock = parts
    case = await an_email(service)
    due = NOW + timedelta(days=1)
    follow_up = await box.add_follow_up(
        case_id=case.id, assignee="", text="call back Tuesday", due_at=due.isoformat(), actor=ADA
    )
    assert follow_up.assignee == "ada"
    assert await box.fire_reminders(now=due - timedelta(seconds=1)) == 0
    assert await box.fire_reminders(now=due) == 1
    assert await box.fire_reminders(now=due + timedelta(hours=1)) == 0
    reminders = [e for e in db.outbox if e.type == "follow_up_due"]
    assert [(e.data["follow_up"]["assignee"], e.data["follow_up"]["text"]) for e in reminders] == [
        ("ada", "call back Tuesday")
    ]
    assert db.follow_ups[follow_up.id].reminded_at == due


async def test_a_completed_follow_up_never_reminds(parts):
    service, box, _db, _clock = parts
    case = await an_email(service)
    follow_up = await box.add_follow_up(
        case_id=case.id,
        assignee="",
        text="chase QA for the lab result",
        due_at=NOW + timedelta(hours=2),
        actor=ADA,
    )
    with pytest.raises(Forbidden, match="ada's"):
        await box.close_follow_up(follow_up_id=follow_up.id, state="done", actor=BEN)
    done = await box.close_follow_up(follow_up_id=follow_up.id, state="done", actor=ADA)
    assert (done.state, done.closed_by) == ("done", "ada")
    assert await box.fire_reminders(now=NOW + timedelta(days=3)) == 0
    with pytest.raises(Refused, match="done already"):
        await box.close_follow_up(follow_up_id=follow_up.id, state="cancelled", actor=SAM)


async def test_an_agent_sets_follow_ups_for_themselves_and_a_supervisor_for_anyone(parts):
    service, box, _db, _clock = parts
    case = await an_email(service)
    with pytest.raises(Forbidden):
        await box.add_follow_up(case_id=case.id, assignee="ben", text="x", due_at=NOW, actor=ADA)
    given = await box.add_follow_up(
        case_id=case.id, assignee="ben", text="ring the lab", due_at=NOW, actor=SAM
    )
    assert given.assignee == "ben"
    with pytest.raises(InvalidInput, match="text"):
        await box.add_follow_up(case_id=case.id, assignee="", text="  ", due_at=NOW, actor=ADA)
    with pytest.raises(InvalidInput, match="due_at"):
        await box.add_follow_up(case_id=case.id, assignee="", text="x", due_at="next week", actor=ADA)


def test_a_rule_routes_somewhere_and_names_real_conditions():
    rule = inbox_rules.InboxRule.clean(
        {"name": "French letters", "channel": "letter", "language": "fr", "skill": "French"},
        channels=CHANNELS,
    )
    assert (rule.channel, rule.language, rule.skill, rule.position) == ("letter", "fr", "french", 100)
    with pytest.raises(InvalidInput, match="team, skill"):
        inbox_rules.InboxRule.clean({"name": "nowhere"}, channels=CHANNELS)
    with pytest.raises(InvalidInput, match="channel"):
        inbox_rules.InboxRule.clean({"name": "fax", "channel": "fax", "team": "t"}, channels=CHANNELS)
    with pytest.raises(InvalidInput, match="issue_prefix"):
        inbox_rules.InboxRule.clean(
            {"name": "bad", "issue_prefix": "Complaint!", "team": "t"}, channels=CHANNELS
        )


def test_the_workload_counts_each_agents_open_due_soon_and_overdue_work():
    loads = inbox_rules.workload(
        ["ada", "ben"],
        cases=[
            ("ada", NOW - timedelta(minutes=1)),
            ("ada", NOW + timedelta(minutes=30)),
            ("ada", None),
            ("zoe", NOW),
        ],
        follow_ups=[("ben", NOW + timedelta(hours=3)), ("ben", NOW)],
        claimed=["ada"],
        now=NOW,
    )
    assert [(x.agent, x.open_cases, x.open_follow_ups, x.due_soon, x.overdue, x.claimed) for x in loads] == [
        ("ada", 3, 0, 1, 1, 1),
        ("ben", 0, 2, 0, 1, 0),
    ]


def test_a_case_is_worked_by_its_response_due_time_until_answered():
    due = {"response_due_at": NOW, "resolution_due_at": NOW + timedelta(days=7)}
    assert inbox_rules.due_of(first_response_at=None, **due) == NOW
    assert inbox_rules.due_of(first_response_at=NOW, **due) == NOW + timedelta(days=7)
