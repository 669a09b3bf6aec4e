"""The acknowledgement with suggested articles, through fakes: only questions knowledge answers without
handing off, the articles worth sending, and its wording in the mail's language."""

from __future__ import annotations

from services.channels.acknowledge import (
    AUTHOR,
    Acknowledger,
    Answer,
    Suggested,
    acknowledgement,
    chosen,
    excerpt,
)

WHERE = Suggested("Where to buy our oats", "Most supermarkets stock them.\n\nAsk at the counter.", 0.9)
PROMO = Suggested("Promotions", "Coupons come with the newsletter.", 0.5)
WEAK = Suggested("Baby puree ingredients", "Carrots.", 0.2)


class FakeKnowledge:
    def __init__(self, code: str, answer: Answer):
        self.code, self.answer = code, answer
        self.asked: list[str] = []
        self.outcomes: list[tuple[int, str]] = []

    async def top_code(self, text, language):
        return self.code

    async def ask(self, question, *, language):
        self.asked.append(question)
        return self.answer

    async def record_outcome(self, log_id, outcome):
        self.outcomes.append((log_id, outcome))


class FakeReplies:
    def __init__(self):
        self.sent: list[dict] = []

    async def reply(self, case_id, *, body, subject, author):
        self.sent.append({"case_id": case_id, "body": body, "author": author})


async def consider(code: str, answer: Answer, language: str = "en"):
    knowledge, replies = FakeKnowledge(code, answer), FakeReplies()
    done = await Acknowledger(knowledge=knowledge, replies=replies).consider(
        case_id="c1", reference=1042, text="Where can I buy your oats?", language=language
    )
    return done, knowledge, replies


async def test_a_question_knowledge_answers_gets_one_acknowledgement_logged_as_handed_to_a_person():
    done, knowledge, replies = await consider(
        "question.where_to_buy", Answer(7, False, "", [WHERE, PROMO, WEAK])
    )
    assert done == "acknowledged with 2 article(s)"
    (sent,) = replies.sent
    assert (sent["case_id"], sent["author"]) == ("c1", AUTHOR)
    assert "case 1042" in sent["body"] and "1. Where to buy our oats" in sent["body"]
    assert "2. Promotions" in sent["body"] and "Baby puree" not in sent["body"]
    assert knowledge.outcomes == [(7, "handed_off")]


async def test_a_complaint_or_a_compliment_is_not_acknowledged_and_knowledge_is_not_asked():
    for code in ("complaint.quality.foreign_object.plastic", "compliment.product", ""):
        done, knowledge, replies = await consider(code, Answer(7, False, "", [WHERE]))
        assert done.startswith("not a question") and not replies.sent and not knowledge.asked


async def test_a_question_that_reads_as_a_safety_matter_or_is_not_answered_confidently_is_not_acknowledged():
    for reason in ("safety", "low_confidence"):
        done, knowledge, replies = await consider("question.ingredients", Answer(7, True, reason, [WHERE]))
        assert done == f"handed off ({reason})" and not replies.sent
    done, knowledge, replies = await consider("question.ingredients", Answer(8, False, "", []))
    assert (done, replies.sent, knowledge.outcomes) == ("no article to suggest", [], [(8, "handed_off")])


def test_the_articles_sent_are_the_best_and_those_at_least_half_as_good_at_most_three():
    many = [Suggested(str(n), "x", score) for n, score in enumerate((0.8, 0.7, 0.5, 0.45, 0.39))]
    assert [a.title for a in chosen(many)] == ["0", "1", "2"]
    assert chosen([]) == []


def test_the_wording_follows_the_mails_language_else_english_and_excerpts_are_short():
    assert acknowledgement(5, "fr", [WHERE]).startswith(
        "Merci pour votre message. Nous l'avons bien reçu sous le dossier 5"
    )
    assert acknowledgement(5, "ja", [WHERE]).startswith("Thank you for your message.")
    assert excerpt(WHERE.body) == "Most supermarkets stock them."
    long = excerpt("word " * 200)
    assert len(long) <= 300 and long.endswith("…")
