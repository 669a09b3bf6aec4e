"""Translation between knowledge values and the protobuf messages of crs.knowledge.v1."""

from __future__ import annotations

from crs.knowledge.v1 import knowledge_pb2

from services.knowledge.articles import Article
from services.knowledge.search import Hit


def article_to_pb(a: Article) -> knowledge_pb2.Article:
    return knowledge_pb2.Article(
        id=a.id,
        product_sku=a.product_sku,
        kind=a.kind,
        language=a.language,
        version=a.version,
        title=a.title,
        body=a.body,
        state=a.state,
        owner=a.owner,
        author=a.author,
        reviewer=a.reviewer,
    )


def article_from_pb(m) -> Article:
    return Article(
        id=m.id,
        product_sku=m.product_sku,
        kind=m.kind,
        language=m.language,
        version=0,
        title=m.title,
        body=m.body,
        state="draft",
        owner="",
        author="",
    )


def hit_to_pb(h: Hit) -> knowledge_pb2.Hit:
    return knowledge_pb2.Hit(article=article_to_pb(h.article), score=h.score, other_language=h.other_language)
