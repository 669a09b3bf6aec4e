"""The web form's use case through fakes: suggestions, deflections counted once, safety always sent."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from services.channels.web_form import (
    AGAIN,
    COUNTED,
    HANDED_OFF,
    REOPENED,
    UNKNOWN,
    Article,
    InvalidForm,
    Limited,
    Submitted,
    Suggestions,
    WebForm,
)

GOOD = {
    "topic": "question",
    "name": "Jane Roe",
    "email": "jane@example.com",
    "message": "Where can I buy the 500 g oat clusters?",
}
ALLERGEN = Article("ingredients-en", "Allergens", "Made in a plant that handles nuts.", "en", 0.91)


@dataclass
class FakeCases:
    opened: list = field(default_factory=list)

    async def open_web_case(self, case):
        self.opened.append(case)
        return 1000 + len(self.opened)


@dataclass
class FakeAnswers:
    safety_words: tuple = ("sick", "malade")
    outcomes: list = field(default_factory=list)
    asked: int = 0

    async def ask(self, question, *, language):
        self.asked += 1
        if any(w in question for w in self.safety_words):
            return Suggestions(answer_id=self.asked, safety=True)
        return Suggestions(answer_id=self.asked, articles=(ALLERGEN,))

    async def outcome(self, answer_id, outcome):
        self.outcomes.append((answer_id, outcome))


@dataclass
class FakeOffers:
    rows: dict = field(default_factory=dict)

    async def offered(self, suggestions, *, language):
        self.rows[suggestions.answer_id] = {"articles": [a.id for a in suggestions.articles], "outcome": None}

    async def deflected(self, answer_id, article_id):
        row = self.rows.get(answer_id)
        if row is None or article_id not in row["articles"]:
            return UNKNOWN
        if row["outcome"] == "deflected":
            return AGAIN
        if row["outcome"] is not None:
            return UNKNOWN
        row["outcome"] = "deflected"
        return COUNTED

    async def submitted(self, answer_id):
        row = self.rows.get(answer_id)
        if row is None or row["outcome"] not in (None, "deflected"):
            return ""
        before, row["outcome"] = row["outcome"], "submitted" if row["outcome"] is None else "reopened"
        return HANDED_OFF if before is None else REOPENED


@dataclass
class Budget:
    left: int = 100

    async def take(self, client):
        self.left -= 1
        return 0.0 if self.left >= 0 else 30.0


@pytest.fixture
def form():
    return WebForm(
        cases=FakeCases(), answers=FakeAnswers(), offers=FakeOffers(), forms=Budget(), questions=Budget()
    )


async def test_a_question_gets_articles_and_a_deflection_is_counted_once(form):
    counted = []
    form.on_deflected.append(lambda: counted.append(1))
    found = await form.suggest(GOOD["message"], language="en", client="a")
    assert [a.id for a in found.articles] == ["ingredients-en"]
    assert await form.answered(found.answer_id, "ingredients-en", client="a") == COUNTED
    assert await form.answered(found.answer_id, "ingredients-en", client="a") == AGAIN
    assert form.answers.outcomes == [(found.answer_id, "resolved")] and counted == [1]
    assert form.cases.opened == []


@pytest.mark.parametrize("question", ["my child got sick after eating it", "mon fils est malade après"])
async def test_safety_wording_is_never_suggested_so_it_cannot_be_deflected(form, question):
    found = await form.suggest(question, language="", client="a")
    assert found.safety and found.articles == ()
    assert await form.answered(found.answer_id, "ingredients-en", client="a") == UNKNOWN
    assert form.answers.outcomes == []
    assert isinstance(await form.submit({**GOOD, "message": question}, client="a"), Submitted)
    assert form.cases.opened[0].message == question


async def test_an_article_not_suggested_under_that_answer_is_not_counted(form):
    found = await form.suggest(GOOD["message"], language="en", client="a")
    assert await form.answered(found.answer_id, "some-other-article", client="a") == UNKNOWN
    assert await form.answered(found.answer_id + 7, "ingredients-en", client="a") == UNKNOWN
    assert form.answers.outcomes == []


async def test_sending_the_form_after_suggestions_hands_the_answer_off_and_after_a_deflection_reopens_it(
    form,
):
    first = await form.suggest(GOOD["message"], language="en", client="a")
    await form.submit({**GOOD, "answer_id": str(first.answer_id)}, client="a")
    second = await form.suggest(GOOD["message"] + " please", language="en", client="a")
    await form.answered(second.answer_id, "ingredients-en", client="a")
    await form.submit({**GOOD, "answer_id": str(second.answer_id)}, client="a")
    assert form.answers.outcomes == [
        (first.answer_id, "handed_off"),
        (second.answer_id, "resolved"),
        (second.answer_id, "reopened"),
    ]
    assert len(form.cases.opened) == 2


async def test_a_short_question_asks_nothing(form):
    assert await form.suggest("hello", language="en", client="a") == Suggestions()
    assert form.answers.asked == 0


async def test_the_forms_budget_and_the_questions_budget_are_apart(form):
    form.forms = Budget(left=1)
    assert isinstance(await form.submit(GOOD, client="a"), Submitted)
    assert isinstance(await form.submit(GOOD, client="a"), Limited)
    assert not isinstance(await form.suggest(GOOD["message"], language="en", client="a"), Limited)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topic": "rant"}, "topic: choose one of"),
        ({"message": "  "}, "message: tell us"),
        ({"email": "", "phone": ""}, "give an email address or a phone number"),
        ({"name": " "}, "name: tell us your name"),
        ({"colour": "red"}, "colour: not a field"),
        ({"name": 42}, "name: must be text"),
    ],
)
async def test_bad_forms_are_refused_with_what_to_change(form, change, message):
    with pytest.raises(InvalidForm, match=message):
        await form.submit({**GOOD, **change}, client="a")
    assert form.cases.opened == []


async def test_the_hidden_field_is_answered_as_sent_and_nothing_is_opened(form):
    assert await form.submit({**GOOD, "website": "http://spam.example"}, client="a") == Submitted(0)
    assert form.cases.opened == []


async def test_the_form_maps_to_the_case_keeping_the_message_exactly(form):
    message = "  Plastic in the box.\n\nPlease call me.  "
    await form.submit({**GOOD, "message": message, "lot_code": "L2419", "store": "FreshMart"}, client="a")
    (case,) = form.cases.opened
    assert case.message == message and case.topic == "question" and case.language == "en"
    assert case.reporter == {"name": "Jane Roe", "email": "jane@example.com"}
    assert case.product == {"lot_code": "L2419", "purchase_store": "FreshMart"}
