"""The inbox over gRPC against PostgreSQL: two agents claiming one case at the same moment (exactly one
gets it), a claimed case refusing the other agent's answer, routing by assignment rules, and a follow-up's
reminder firing at its time on an injected clock, once, and not again after a restart."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import grpc
import pytest
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import inbox_pb2 as ipb
from crs.contacts.v1 import inbox_pb2_grpc

from services.runtime import db
from services.runtime.principal import Principal
from tests.integration.contacts.case_support import parts_with_clock, sweep_rounds
from tests.support.held import table_held
from tests.support.wait import async_wait_for


class InboxCaller:
    """The Inbox stub with one person's principal on every call."""

    def __init__(self, channel, username: str, role: str = "agent", team: str = "north"):
        self._stub = inbox_pb2_grpc.InboxStub(channel)
        self._metadata = Principal(username, role, team=team).metadata()

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)

        async def call(request):
            return await method(request, metadata=self._metadata, timeout=20)

        return call


@pytest.fixture
def alice_inbox(contacts):
    return InboxCaller(contacts.channel, "alice")


@pytest.fixture
def bob_inbox(contacts):
    return InboxCaller(contacts.channel, "bob")


@pytest.fixture
def sam_inbox(contacts):
    return InboxCaller(contacts.channel, "sam", "supervisor")


async def test_two_agents_claiming_one_case_at_the_same_moment_exactly_one_gets_it(
    database_url, agent, alice_inbox, bob_inbox
):
    case = await agent.capture(issue_code="question", channel="email", verbatim="Where can I buy it?")
    # Both claims are held in the database until both have arrived, so they meet there, not one after
    # the other: the first waits on the claims table with the case locked, the second on the case.
    with table_held(database_url, "contacts.case_claim") as held:
        racing = [
            asyncio.create_task(alice_inbox.ClaimCase(ipb.ClaimCaseRequest(case_id=case.id))),
            asyncio.create_task(bob_inbox.ClaimCase(ipb.ClaimCaseRequest(case_id=case.id))),
        ]

        async def both_waiting():
            return await asyncio.to_thread(held.waiting) >= 2

        await async_wait_for(both_waiting, timeout=15, what="both claims waiting in the database")
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    won = [o for o in outcomes if isinstance(o, ipb.CaseClaim)]
    lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    winner = won[0].agent
    assert winner in ("alice", "bob")
    assert lost[0].code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"{winner} claimed this case" in lost[0].details()


async def test_many_cases_claimed_by_two_agents_at_once_each_have_one_holder(agent, alice_inbox, bob_inbox):
    cases = [await agent.capture(issue_code="question", channel="chat") for _ in range(8)]
    claims = [
        inbox.ClaimCase(ipb.ClaimCaseRequest(case_id=case.id))
        for case in cases
        for inbox in (alice_inbox, bob_inbox)
    ]
    outcomes = await asyncio.gather(*claims, return_exceptions=True)
    for index, case in enumerate(cases):
        pair = outcomes[2 * index : 2 * index + 2]
        assert sum(isinstance(o, ipb.CaseClaim) for o in pair) == 1, (case.reference, pair)


async def test_a_claimed_case_refuses_another_agents_answer_until_released(
    agent, other_agent, alice_inbox, bob_inbox, sam_inbox
):
    case = await agent.capture(issue_code="question", channel="email")
    await alice_inbox.ClaimCase(ipb.ClaimCaseRequest(case_id=case.id))
    refused = await other_agent.refused(
        "AddAction", pb.AddActionRequest(id=case.id, action_code="replied", note="Dear consumer")
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "alice claimed this case" in refused.details()
    assert list((await agent.GetCase(pb.GetCaseRequest(id=case.id))).action_codes) == []
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await bob_inbox.ReleaseCase(ipb.ReleaseCaseRequest(case_id=case.id))
    assert not_theirs.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await sam_inbox.ReleaseCase(ipb.ReleaseCaseRequest(case_id=case.id))
    answered = await other_agent.AddAction(pb.AddActionRequest(id=case.id, action_code="replied"))
    assert "replied" in answered.action_codes


async def test_rules_route_a_case_to_the_agents_with_its_skill(agent, alice_inbox, bob_inbox, sam_inbox):
    skill = "lang-" + uuid.uuid4().hex[:6]
    # Critical: due within the hour, so it heads the inbox whatever other tests of this run left open.
    letter = await agent.capture(
        issue_code="question", channel="letter", language="fr-CA", severity="critical"
    )
    rule = await sam_inbox.PutInboxRule(
        ipb.InboxRule(
            name="French letters", channel="letter", language="fr", skill=skill, position=1, active=True
        )
    )
    try:
        with_skill = await alice_inbox.GetInbox(ipb.GetInboxRequest(skills=[skill], channel="letter"))
        without = await bob_inbox.GetInbox(ipb.GetInboxRequest(channel="letter"))
        shown = {item.case.id: item for item in with_skill.items}
        assert letter.id in shown
        assert (shown[letter.id].routed_by, shown[letter.id].skill) == ("French letters", skill)
        assert letter.id not in {item.case.id for item in without.items}
        # The supervisor's team inbox shows it whatever the skill.
        team = await sam_inbox.GetInbox(
            ipb.GetInboxRequest(scope="team", agents=["alice", "bob"], channel="letter")
        )
        assert letter.id in {item.case.id for item in team.items}
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await bob_inbox.PutInboxRule(ipb.InboxRule(name="mine", team="north"))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await sam_inbox.PutInboxRule(
            ipb.InboxRule(
                id=rule.id, name=rule.name, channel="letter", language="fr", skill=skill, active=False
            )
        )


async def test_a_follow_ups_reminder_fires_at_its_time_once_and_not_again_after_a_restart(
    database_url, amqp_url, agent, alice_inbox
):
    connection = await aio_pika.connect_robust(amqp_url)
    pool = await db.open_pool(database_url, schema="contacts")
    channel = await connection.channel()
    exchange = await channel.declare_exchange("contacts.events", aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "follow_up_due")
    case = await agent.capture(issue_code="question", channel="email")
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    stamp = ipb.FollowUp().due_at
    stamp.FromDatetime(due)
    added = await alice_inbox.AddFollowUp(
        ipb.AddFollowUpRequest(case_id=case.id, text="call back Tuesday", due_at=stamp)
    )
    clock = [due - timedelta(minutes=1)]
    parts = parts_with_clock(pool, lambda: clock[0], follow_up_sweep_seconds=0.05)
    restarted = None
    try:
        parts.start()
        await sweep_rounds(parts.reminders, 3)

        async def shown():
            listed = await alice_inbox.ListFollowUps(ipb.ListFollowUpsRequest(case_id=case.id))
            return next(f for f in listed.follow_ups if f.id == added.id)

        assert not (await shown()).HasField("reminded_at")  # a minute early: nothing yet
        clock[0] = due + timedelta(seconds=5)

        async def reminded():
            follow_up = await shown()
            return follow_up if follow_up.HasField("reminded_at") else None

        fired = await async_wait_for(reminded, timeout=15, what="the reminder")
        assert fired.reminded_at.ToDatetime(tzinfo=UTC) == due + timedelta(seconds=5)  # the clock's time
        page = await alice_inbox.GetInbox(ipb.GetInboxRequest())
        assert added.id in {f.id for f in page.reminders}

        async def published():
            message = await queue.get(fail=False, timeout=5)
            if message is None:
                return None
            await message.ack()
            return json.loads(message.body)["data"]["follow_up"]

        async def reminder_of_ours():
            data = await published()
            return data if data and data["id"] == added.id else None

        event = await async_wait_for(reminder_of_ours, timeout=15, what="follow_up_due on the bus")
        assert (event["assignee"], event["text"]) == ("alice", "call back Tuesday")
        await parts.stop()
        # A restart: new parts on the same database, the clock still past the due time.
        restarted = parts_with_clock(pool, lambda: clock[0], follow_up_sweep_seconds=0.05)
        restarted.start()
        await sweep_rounds(restarted.reminders, 5)
        assert (await shown()).reminded_at == fired.reminded_at

        async def outbox_drained():
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT count(*) FROM outbox WHERE routing_key = 'follow_up_due'")
                return (await cur.fetchone())[0] == 0

        await async_wait_for(outbox_drained, timeout=15, what="the outbox published")
        while (again := await published()) is not None:
            assert again["id"] != added.id, "the reminder fired a second time"
    finally:
        await (restarted or parts).stop()
        await pool.close()
        await connection.close()


async def test_an_email_channels_files_is_in_every_agents_inbox_and_shows_who_claimed_it(
    contacts, database_url, alice_inbox
):
    pool = await db.open_pool(database_url, schema="contacts")
    try:
        parts = parts_with_clock(pool, lambda: datetime.now(UTC))
        # As channels files an inbound email: a service on its own account, so no team captured it.
        email = await parts.casework.create(
            # Critical: due within the hour, so it heads the inbox whatever other tests of this run left open.
            data={
                "issue_code": "question",
                "channel": "email",
                "severity": "critical",
                "verbatim": "Do the bars contain nuts?",
            },
            actor="channels",
        )
        elsewhere = InboxCaller(contacts.channel, "zoe", team="south")
        for inbox in (alice_inbox, elsewhere):
            page = await inbox.GetInbox(ipb.GetInboxRequest(channel="email", limit=200))
            assert email.id in {item.case.id for item in page.items}
        await alice_inbox.ClaimCase(ipb.ClaimCaseRequest(case_id=email.id))
        page = await elsewhere.GetInbox(ipb.GetInboxRequest(channel="email", limit=200))
        (item,) = [item for item in page.items if item.case.id == email.id]
        assert item.claim.agent == "alice"
    finally:
        await pool.close()


async def test_a_follow_up_is_in_the_consumers_export_and_loses_their_name_on_erasure(
    contacts, agent, alice_inbox
):
    from crs.common.v1 import privacy_pb2 as common
    from crs.contacts.v1 import contacts_pb2 as cpb
    from crs.contacts.v1 import privacy_pb2_grpc

    consumer = await contacts.stub.CreateConsumer(
        cpb.CreateConsumerRequest(consumer=cpb.Consumer(name="Odile Brunet"), region="US")
    )
    case = await agent.capture(issue_code="question", channel="email", consumer_id=consumer.id)
    stamp = ipb.FollowUp().due_at
    stamp.FromDatetime(datetime.now(UTC) + timedelta(days=1))
    text = "call Odile Brunet back about the lab result"
    await alice_inbox.AddFollowUp(ipb.AddFollowUpRequest(case_id=case.id, text=text, due_at=stamp))
    privacy = privacy_pb2_grpc.PrivacyStub(contacts.channel)
    metadata = Principal("sam", "supervisor", team="north").metadata()
    keys = common.ConsumerKeys(consumer_id=consumer.id)
    exported = await privacy.ExportConsumer(
        common.ExportConsumerRequest(consumer=keys), metadata=metadata, timeout=20
    )
    assert [f["body"] for f in json.loads(exported.data_json)["follow_ups"]] == [text]
    await privacy.EraseConsumer(
        common.EraseConsumerRequest(consumer=keys, erasure_id=str(uuid.uuid4())),
        metadata=metadata,
        timeout=20,
    )
    listed = await alice_inbox.ListFollowUps(ipb.ListFollowUpsRequest(case_id=case.id))
    assert [f.text for f in listed.follow_ups] == ["call [redacted] back about the lab result"]
