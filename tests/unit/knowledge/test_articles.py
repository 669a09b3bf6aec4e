"""The article workflow and the Markdown format."""

import pytest

from services.knowledge import articles
from services.knowledge.articles import Article, InvalidArticle, NotAllowed

DRAFT = Article(
    "oats-buy", "FD-OAT-500", "where_to_buy", "fr", 0, "Où acheter", "Partout.\n", "draft", "", ""
)


def test_a_draft_is_reviewed_by_someone_else_then_published():
    first = articles.new_version(None, DRAFT, actor="ana", role="agent", publish=False)
    assert (first.version, first.state, first.owner) == (1, "draft", "ana")
    with pytest.raises(NotAllowed):
        articles.review(first, actor="ana", role="supervisor")
    with pytest.raises(InvalidArticle):
        articles.publish(first, role="supervisor")
    reviewed = articles.review(first, actor="ben", role="supervisor")
    assert articles.publish(reviewed, role="admin").state == "published"


def test_a_new_version_keeps_the_owner_and_counts_up():
    first = articles.new_version(None, DRAFT, actor="ana", role="agent", publish=False)
    second = articles.new_version(first, DRAFT, actor="carl", role="admin", publish=True)
    assert (second.version, second.owner, second.author, second.state) == (2, "ana", "carl", "published")


def test_an_agent_cannot_publish():
    with pytest.raises(NotAllowed):
        articles.new_version(None, DRAFT, actor="ana", role="agent", publish=True)


def test_markdown_round_trip():
    text = "---\nid: oats-buy\nlanguage: fr\nkind: where_to_buy\nproduct: FD-OAT-500\ntitle: Où acheter\n---\n\nPartout.\n"
    parsed = articles.parse_markdown(text)
    assert (parsed.id, parsed.language, parsed.product_sku, parsed.title, parsed.body) == (
        "oats-buy",
        "fr",
        "FD-OAT-500",
        "Où acheter",
        "Partout.\n",
    )
    again = articles.parse_markdown(articles.to_markdown(parsed))
    assert (again.id, again.title, again.body) == (parsed.id, parsed.title, parsed.body)


@pytest.mark.parametrize(
    "text",
    [
        "no front matter",
        "---\nid: x\n",
        "---\nid: Bad Id\nlanguage: en\nkind: general\ntitle: t\n---\nbody",
        "---\nid: ok\nlanguage: xx\nkind: general\ntitle: t\n---\nbody",
    ],
)
def test_malformed_markdown_is_rejected_with_a_reason(text):
    with pytest.raises(InvalidArticle):
        articles.parse_markdown(text, source="f.md")
