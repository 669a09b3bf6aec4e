"""Chat through fakes: routing by language and load, the transcript on the case, typing and delivery both
ways, refusals, and a message left when no agent is free becoming an email case through the intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.channels.chat import ChatDesks, Refused, language_of
from services.channels.chat_web import Budget
from services.channels.intake import Consumer, Intake
from tests.unit.channels.fakes import (
    FakeCases,
    FakeChatCases,
    FakeChatStore,
    FakeConsumers,
    FakeStore,
    Recorder,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def parts():
    mail_store, mail_cases = FakeStore(now=NOW), FakeCases()
    consumers = FakeConsumers({"ann@example.com": Consumer("c-ann", "Ann Lee", "en")})
    intake = Intake(
        store=mail_store,
        cases=mail_cases,
        consumers=consumers,
        own_domain="crs.test",
        window=timedelta(days=14),
        detect_language=lambda text: "en",
        clock=lambda: NOW,
    )
    cases, store = FakeChatCases(), FakeChatStore(now=NOW)
    desks = ChatDesks(
        store=store, cases=cases, consumers=consumers, intake=intake, centre_address="care@crs.test"
    )
    return desks, cases, store, mail_cases


async def open_desk(desks, username, languages, capacity=3):
    sink = Recorder()
    await desks.open_desk(username, username.title(), languages=languages, capacity=capacity, sink=sink)
    return sink


async def test_a_chat_goes_to_an_agent_who_speaks_the_consumers_language(parts):
    desks, cases, _, _ = parts
    ada = await open_desk(desks, "ada", ["en", "fr"])
    ben = await open_desk(desks, "ben", ["en"])
    chat = await desks.start(name="Marie", email="", language="fr-CA", first="Bonjour", consumer=Recorder())
    assert chat.agent == "ada"
    assert cases.opened[0]["language"] == "fr" and cases.opened[0]["verbatim"] == "Bonjour"
    assert ada.kinds()[-1] == "chat" and "chat" not in ben.kinds()


async def test_the_least_busy_agent_gets_the_next_chat_and_capacity_is_kept(parts):
    desks, _, _, _ = parts
    await open_desk(desks, "ada", ["en"], capacity=1)
    await open_desk(desks, "ben", ["en"], capacity=1)
    first = await desks.start(name="", email="", language="en", first="Hi", consumer=Recorder())
    second = await desks.start(name="", email="", language="en", first="Hello", consumer=Recorder())
    assert {first.agent, second.agent} == {"ada", "ben"}
    assert not desks.available("en")
    assert await desks.start(name="", email="", language="en", first="Anyone?", consumer=Recorder()) is None


async def test_no_agent_in_the_language_means_no_chat(parts):
    desks, cases, _, _ = parts
    await open_desk(desks, "ben", ["en"])
    assert not desks.available("de")
    assert await desks.start(name="", email="", language="de", first="Hallo", consumer=Recorder()) is None
    assert cases.opened == []


async def test_the_transcript_is_kept_and_each_side_sees_lines_typing_and_delivery(parts):
    desks, cases, store, _ = parts
    ada = await open_desk(desks, "ada", ["en"])
    consumer = Recorder()
    chat = await desks.start(
        name="Ann", email="ann@example.com", language="en", first="My cereal had plastic", consumer=consumer
    )
    assert cases.opened[0]["consumer"].id == "c-ann"
    await desks.consumer_typing(chat)
    assert ada.kinds()[-1] == "typing"
    await desks.agent_typing("ada", chat.id)
    assert consumer.kinds("type")[-1] == "typing"
    answer = await desks.agent_says("ada", chat.id, "I am sorry to hear that. Which lot?")
    assert consumer.events[-1]["type"] == "line" and consumer.events[-1]["line"]["author"] == "Ada"
    await desks.consumer_saw(chat, answer.id)
    assert ada.events[-1] == {"kind": "delivered", "chat_id": chat.id, "line_id": answer.id}
    question = await desks.consumer_says(chat, "Lot L2417")
    await desks.agent_saw("ada", chat.id, question.id)
    assert consumer.events[-1] == {"type": "delivered", "line_id": question.id}
    await desks.agent_says("ada", chat.id, "Thank you")
    assert [(x["author"], x["body"]) for x in store.lines] == [
        ("consumer", "My cereal had plastic"),
        ("ada", "I am sorry to hear that. Which lot?"),
        ("consumer", "Lot L2417"),
        ("ada", "Thank you"),
    ]
    assert all(x["case_id"] == chat.case_id for x in store.lines)
    assert cases.answered == [(chat.case_id, "ada")]


async def test_bad_lines_and_contacts_are_refused_with_a_reason(parts):
    desks, cases, _, _ = parts
    await open_desk(desks, "ada", ["en"])
    with pytest.raises(Refused, match="at most 2000"):
        await desks.start(name="", email="", language="en", first="x" * 2001, consumer=Recorder())
    with pytest.raises(Refused, match="email address"):
        await desks.start(name="", email="not-an-address", language="en", first="Hi", consumer=Recorder())
    with pytest.raises(Refused, match="some text"):
        await desks.start(name="", email="", language="en", first="   ", consumer=Recorder())
    assert cases.opened == []


async def test_an_agent_acts_only_on_their_own_open_chats(parts):
    desks, _, _, _ = parts
    await open_desk(desks, "ada", ["en"])
    await open_desk(desks, "ben", ["fr"])
    consumer = Recorder()
    chat = await desks.start(name="", email="", language="en", first="Hi", consumer=consumer)
    with pytest.raises(Refused, match="no such chat"):
        await desks.agent_says("ben", chat.id, "Hello from Ben")
    await desks.agent_ends("ada", chat.id)
    assert consumer.kinds("type")[-1] == "ended"
    with pytest.raises(Refused):
        await desks.agent_says("ada", chat.id, "Still there?")


async def test_a_reopened_desk_gets_its_open_chats_again_and_the_old_one_is_let_go(parts):
    desks, _, _, _ = parts
    first = await open_desk(desks, "ada", ["en"])
    chat = await desks.start(name="", email="", language="en", first="Hi", consumer=Recorder())
    second = await open_desk(desks, "ada", ["en"])
    desks.close_desk("ada", first)  # the old socket's close comes after the new one opened
    assert "ada" in desks.desks
    resent = [e for e in second.events if e["kind"] == "chat"]
    assert resent[0]["chat_id"] == chat.id and [x.body for x in resent[0]["lines"]] == ["Hi"]
    desks.close_desk("ada", second)
    assert not desks.available("en")


async def test_a_message_left_becomes_an_email_case_through_the_intake(parts):
    desks, cases, _, mail_cases = parts
    outcome = await desks.leave_message(
        name="Ann Lee", email="ann@example.com", language="en", body="Please call me about my order"
    )
    assert outcome.created and not outcome.rejected
    assert mail_cases.opened[0]["consumer"].id == "c-ann"
    assert "Please call me about my order" in mail_cases.opened[0]["verbatim"]
    assert cases.opened == []
    with pytest.raises(Refused, match="email address is needed"):
        await desks.leave_message(name="", email="", language="en", body="Hello")


def test_browser_languages_become_primary_subtags():
    assert [language_of(x) for x in ("fr-CA", "de", "EN_gb", "", "<script>")] == [
        "fr",
        "de",
        "en",
        "en",
        "en",
    ]


def test_a_connection_budget_refuses_a_flood_and_refills_with_time():
    now = [0.0]
    budget = Budget(3, 2, clock=lambda: now[0])
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 1.0
    assert [budget.take() for _ in range(3)] == [True, True, False]
