"""The chat assistant through fakes: it answers from an article and hears the outcome, hands off for safety
(escalated, at once), on request and on low confidence, queues a hand-off when no agent is free, lists stores
from a postcode after a where-to-buy answer, and steps aside when knowledge cannot be reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from services.channels import chat_bot
from services.channels.chat import ChatDesks, Refused
from tests.support.wait import async_wait_for
from tests.unit.channels.fakes import FakeChatCases, FakeChatStore, FakeConsumers, Recorder

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALLERGENS = chat_bot.Source(
    "oats-ingredients", "Oats: ingredients and allergens", "en", "ingredients", "", False
)
WHERE = chat_bot.Source(
    "oats-where-to-buy", "Where to buy the oat clusters", "en", "where_to_buy", "FD-OAT-500", False
)


@dataclass
class FakeAnswers:
    """Knowledge's Ask as a table: a question's reply, or a hand-off for low confidence."""

    replies: dict[str, chat_bot.Reply] = field(default_factory=dict)
    outcomes: list[tuple[int, str]] = field(default_factory=list)
    asked: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    async def ask(self, question, *, language):
        if self.down:
            raise ConnectionError("knowledge is away")
        self.asked.append((question, language))
        log_id = len(self.asked)
        found = self.replies.get(question)
        if found is None:
            return chat_bot.Reply("", None, True, chat_bot.LOW_CONFIDENCE, 0.2, log_id)
        return chat_bot.Reply(found.answer, found.source, found.hand_off, found.reason, 0.9, log_id)

    async def record(self, log_id, outcome):
        self.outcomes.append((log_id, outcome))


@dataclass
class FakeShops:
    async def where_to_buy(self, sku, postcode, *, language):
        if postcode != "10001":
            raise chat_bot.NoPlace(postcode)
        return [
            chat_bot.Shop("FreshMart Midtown", "10001", 0.4, 12),
            chat_bot.Shop("Far Away", "94110", 4130.0, 3),
        ]


@dataclass
class Cases(FakeChatCases):
    escalated: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)

    async def escalate(self, case_id, *, reason):
        self.escalated.append((case_id, reason))

    async def resolved_by_assistant(self, case_id, *, note):
        self.statuses.append((case_id, "resolved"))

    async def reopened(self, case_id, *, note):
        self.statuses.append((case_id, "in_progress"))


def answered(source, text):
    return chat_bot.Reply(text, source, False, "", 0.9, 0)


def safety():
    return chat_bot.Reply("", ALLERGENS, True, chat_bot.SAFETY, 0.9, 0)


def asked():
    return chat_bot.Reply("", None, True, chat_bot.ASKED_FOR_PERSON, 0.1, 0)


@pytest.fixture
def parts():
    answers = FakeAnswers(
        {
            "does it contain nuts?": answered(ALLERGENS, "Made in a factory that also handles nuts."),
            "contient-il des noix ?": answered(ALLERGENS, "Fabriqué dans une usine qui traite des noix."),
            "where can I buy the 500 g oat clusters?": answered(WHERE, "Most large supermarkets."),
            "my child got sick after eating it": safety(),
            "mon enfant a été malade après en avoir mangé": safety(),
            "I want to talk to a person": asked(),
            "je veux parler à un conseiller": asked(),
        }
    )
    cases, store = Cases(), FakeChatStore(now=NOW)
    desks = ChatDesks(
        store=store,
        cases=cases,
        consumers=FakeConsumers({}),
        intake=None,
        centre_address="care@crs.test",
        answers=answers,
        shops=FakeShops(),
    )
    return desks, answers, cases, store


async def open_desk(desks, username, languages, capacity=3):
    sink = Recorder()
    await desks.open_desk(username, username.title(), languages=languages, capacity=capacity, sink=sink)
    return sink


def shown(consumer):
    return [e["line"] for e in consumer.events if e.get("type") == "line"]


@pytest.mark.parametrize(
    "language,question,words",
    [("en", "does it contain nuts?", "From our article"), ("fr", "contient-il des noix ?", "D'après notre")],
)
async def test_the_assistant_answers_with_its_article_and_the_consumer_says_it_resolved_it(
    parts, language, question, words
):
    desks, answers, cases, store = parts
    consumer = Recorder()
    chat = await desks.start(name="", email="", language=language, first=question, consumer=consumer)
    assert chat.agent == "" and cases.opened[0]["verbatim"] == question
    line = shown(consumer)[0]
    assert line["assistant"] and line["article"]["id"] == "oats-ingredients"
    assert words in line["body"] and "Oats: ingredients and allergens" in line["body"]
    await desks.consumer_resolved(chat)
    assert answers.outcomes == [(1, "resolved")]
    assert cases.statuses == [(chat.case_id, "resolved")]
    await desks.consumer_says(chat, question)
    assert answers.outcomes[-1] == (1, "reopened") and cases.statuses[-1] == (chat.case_id, "in_progress")
    # The transcript on the case holds the assistant's lines among the consumer's, in order.
    assert [x["author"] for x in store.lines] == [
        "consumer",
        "assistant",
        "assistant",
        "consumer",
        "assistant",
    ]


@pytest.mark.parametrize(
    "language,question",
    [("en", "my child got sick after eating it"), ("fr", "mon enfant a été malade après en avoir mangé")],
)
async def test_a_safety_matter_goes_to_an_agent_at_once_escalated(parts, language, question):
    desks, _, cases, _ = parts
    ada = await open_desk(desks, "ada", ["en", "fr"])
    consumer = Recorder()
    chat = await desks.start(name="", email="", language=language, first=question, consumer=consumer)
    assert chat.agent == "ada" and chat.escalated
    assert cases.escalated == [(chat.case_id, chat_bot_reason())]
    offer = ada.events[-1]
    assert offer["kind"] == "chat" and offer["detail"] == "escalated"
    assert [x.author for x in offer["lines"]] == ["consumer", "assistant"]
    assert consumer.events[-1] == {"type": "agent", "name": "Ada"}
    assert "article" not in shown(consumer)[0]


def chat_bot_reason():
    from services.channels.chat_bot import SAFETY_ESCALATION

    return SAFETY_ESCALATION


@pytest.mark.parametrize(
    "language,question", [("en", "I want to talk to a person"), ("fr", "je veux parler à un conseiller")]
)
async def test_the_consumer_asking_for_a_person_is_handed_off_in_words_or_by_the_button(
    parts, language, question
):
    desks, answers, cases, _ = parts
    await open_desk(desks, "ada", ["en", "fr"])
    words = await desks.start(name="", email="", language=language, first=question, consumer=Recorder())
    assert words.agent == "ada" and not words.escalated and cases.escalated == []
    first = "does it contain nuts?" if language == "en" else "contient-il des noix ?"
    button = await desks.start(name="", email="", language=language, first=first, consumer=Recorder())
    await desks.consumer_wants_agent(button)
    assert button.agent == "ada" and answers.outcomes == [(2, "handed_off")]
    with pytest.raises(Refused):
        await desks.consumer_wants_agent(button)


@pytest.mark.parametrize(
    "language,question", [("en", "the box is a strange colour"), ("fr", "la boîte a une drôle de couleur")]
)
async def test_low_confidence_waits_for_an_agent_and_escalated_chats_are_served_first(
    parts, language, question
):
    desks, _, _, _ = parts
    doubtful, consumer = Recorder(), Recorder()
    plain = await desks.start(name="", email="", language=language, first=question, consumer=doubtful)
    unsafe = (
        "my child got sick after eating it"
        if language == "en"
        else "mon enfant a été malade après en avoir mangé"
    )
    urgent = await desks.start(name="", email="", language=language, first=unsafe, consumer=consumer)
    assert plain.waiting and urgent.waiting and doubtful.events[-1] == {"type": "waiting"}
    ada = await open_desk(desks, "ada", [language], capacity=1)
    assert urgent.agent == "ada" and plain.agent == "" and plain.waiting
    await desks.agent_ends("ada", urgent.id)
    assert plain.agent == "ada" and [e["kind"] for e in ada.events].count("chat") == 2


async def test_a_where_to_buy_answer_lists_the_nearest_stores_from_a_postcode(parts):
    desks, _, _, _ = parts
    consumer = Recorder()
    chat = await desks.start(
        name="", email="", language="en", first="where can I buy the 500 g oat clusters?", consumer=consumer
    )
    assert "postcode" in shown(consumer)[0]["body"]
    await desks.consumer_says(chat, "99999")
    assert "could not find the postcode 99999" in shown(consumer)[-1]["body"]
    await desks.consumer_says(chat, "my zip is 10001")
    assert "FreshMart Midtown (10001), 0.4 km" in shown(consumer)[-1]["body"]
    assert "Far Away" not in shown(consumer)[-1]["body"]


async def test_without_knowledge_a_chat_goes_to_an_agent_as_before(parts):
    desks, answers, _, _ = parts
    answers.down = True
    assert await desks.start(name="", email="", language="en", first="Hi", consumer=Recorder()) is None
    await open_desk(desks, "ada", ["en"])
    chat = await desks.start(name="", email="", language="en", first="Hi", consumer=Recorder())
    assert chat.agent == "ada"


@pytest.mark.parametrize(
    "text,code",
    [
        ("10001", "10001"),
        ("my zip is 10001.", "10001"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("code postal : 75011", "75011"),
        ("where is it sold", None),
        ("hello", None),
    ],
)
def test_a_postcode_is_read_from_a_line_that_is_one(text, code):
    assert chat_bot.postcode_in(text) == code


async def test_a_reload_with_the_chats_token_takes_it_up_again_and_a_stranger_token_does_not(parts):
    desks, _, _, _ = parts
    first_page = Recorder()
    chat = await desks.start(
        name="", email="", language="en", first="does it contain nuts?", consumer=first_page
    )
    await desks.consumer_away(chat, first_page)
    assert desks.resume("not-the-token", Recorder()) is None
    reloaded = Recorder()
    assert desks.resume(chat.token, reloaded) is chat
    assert [x["author"] for x in desks.transcript(chat)] == ["consumer", "Assistant"]
    assert desks.transcript(chat)[0]["mine"] and desks.transcript(chat)[1]["assistant"]
    await desks.consumer_says(chat, "does it contain nuts?")
    assert shown(reloaded) and not shown(first_page)[1:]
    assert not chat.ended and chat.away is None


async def test_a_page_not_reloaded_within_the_window_ends_its_chat(parts):
    desks, _, _, _ = parts
    desks.resume_seconds = 0
    await open_desk(desks, "ada", ["en"])
    page = Recorder()
    chat = await desks.start(
        name="", email="", language="en", first="I want to talk to a person", consumer=page
    )
    await desks.consumer_away(chat, page)

    async def ended():
        return chat.ended

    await async_wait_for(ended, what="the chat to end")
    assert desks.resume(chat.token, Recorder()) is None


async def test_when_fulfillment_is_away_the_consumer_is_told_and_the_chat_goes_on(parts):
    desks, _, _, _ = parts

    class AwayShops:
        async def where_to_buy(self, sku, postcode, *, language):
            raise ConnectionError("fulfillment is away")

    desks.shops = AwayShops()
    consumer = Recorder()
    chat = await desks.start(
        name="", email="", language="fr", first="where can I buy the 500 g oat clusters?", consumer=consumer
    )
    await desks.consumer_says(chat, "75011")
    assert "Je ne peux pas chercher les magasins" in shown(consumer)[-1]["body"]
    assert not chat.ended


def test_the_assistant_has_every_one_of_its_lines_in_each_of_its_languages():
    from services.channels import chat_words

    expected = set(chat_words.WORDS["en"])
    assert {language: set(words) for language, words in chat_words.WORDS.items()} == dict.fromkeys(
        chat_words.WORDS, expected
    )


async def open_skilled_desk(desks, username, skills):
    sink = Recorder()
    await desks.open_desk(username, username.title(), languages=["en"], capacity=3, sink=sink, skills=skills)
    return sink


async def test_a_chat_goes_to_an_agent_skilled_in_its_matter_before_one_who_waited_longer(parts):
    desks, _, _, _ = parts
    await open_skilled_desk(desks, "ben", ["where_to_buy"])
    await open_skilled_desk(desks, "ada", ["product_safety"])
    unsafe = await desks.start(
        name="", email="", language="en", first="my child got sick after eating it", consumer=Recorder()
    )
    assert unsafe.agent == "ada"
    buying = await desks.start(
        name="", email="", language="en", first="where can I buy the 500 g oat clusters?", consumer=Recorder()
    )
    await desks.consumer_wants_agent(buying)
    assert buying.agent == "ben"
    # Nobody is skilled in ingredients: the least busy agent who speaks the language takes it.
    nuts = await desks.start(
        name="", email="", language="en", first="does it contain nuts?", consumer=Recorder()
    )
    await desks.open_desk("cy", "Cy", languages=["en"], capacity=3, sink=Recorder())
    await desks.consumer_wants_agent(nuts)
    assert nuts.agent == "cy"
