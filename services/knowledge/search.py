"""Hybrid search: the local embedding model on the meaning, plus BM25 on the words, fused by score.

Every published language version is indexed. A hit is one article; it is shown in the question's language
when a published version exists in it, and otherwise in the language that matched, flagged as such.

The model's cosines run higher between texts of one language than across languages, so with many articles
in the question's language, a wrong one in that language outranks the right one in another. Each cosine is
therefore measured against the others of its language for this question (a z-score within the language);
a language with few versions is measured against all of them. BM25 then adds up to LEXICAL_WEIGHT of a
standard deviation, its best match getting all of it: enough to lift exact names, SKUs and lot codes, not
enough to overrule the meaning.

A question is about a product and asks one thing about it (where to buy it, what it contains, ...). The
words of the product's other articles make a where-to-buy article in the question's language look closer
to "does it contain gluten?" than the product's ingredients article in another. So two more terms:
- the question's intent: its cosine to a description of each kind of article (KIND_INTENTS), as a
  z-score across the kinds, added at INTENT_WEIGHT to every version of that kind;
- the product's support: a version of a product scores PRODUCT_WEIGHT of the best fused score among that
  product's versions and the rest of its own (an article for every product keeps its own), so the
  product the question is about outranks other products' articles of the kind it asks about, and among
  the product's articles the intent decides.
Every weight was chosen on a development question set, not on the benchmark's evaluation questions
(docs/benchmarks.md).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import bm25s
import numpy as np

from services.knowledge.articles import KINDS, Article
from services.knowledge.text import tokens

LEXICAL_WEIGHT = 0.25
INTENT_WEIGHT = 0.25
PRODUCT_WEIGHT = 0.75
MIN_LANGUAGE_GROUP = 20
# What a question of each kind asks, for the model to compare a question with: one language is enough,
# the model reads the question's meaning across languages.
KIND_INTENTS = {
    "where_to_buy": "Where to buy it: the shops, supermarkets and online stores that sell the product.",
    "how_to_use": "How to use it: preparing, cooking, serving and storing the product, and the machines it fits.",
    "ingredients": "What it contains: ingredients, allergens, gluten, nutrition facts and additives.",
    "promotions": "Promotions: coupons, vouchers, discounts and special offers.",
    "recall": "A product recall: which lots are affected and what to do with them.",
    "general": "Customer service: opening hours, phone numbers and how to contact us.",
}
_intent_vectors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Embedder(Protocol):
    name: str

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    similarity: float  # the embedding model's cosine for the best-matching version, 0 without one
    other_language: bool


class Index:
    """Published articles, ready to rank with `mode` = 'bm25', 'dense' (cosine alone) or 'hybrid'."""

    def __init__(
        self, articles: Sequence[Article], embedder: Embedder | None, *, cache: dict | None = None
    ) -> None:
        self.articles = list(articles)
        self.embedder = embedder
        self.by_key = {(a.id, a.language): a for a in self.articles}
        self.lexical = bm25s.BM25()
        corpus = [tokens(a.text) or ["_"] for a in self.articles]
        if corpus:
            self.lexical.index(corpus, show_progress=False)
        languages = sorted({a.language for a in self.articles})
        self._language = np.array([languages.index(a.language) for a in self.articles], dtype=np.int64)
        counts = np.bincount(self._language, minlength=len(languages))
        # Versions of a language too rare to estimate its spread are measured against all versions.
        self._own_group = counts[self._language] >= MIN_LANGUAGE_GROUP
        self._kind = np.array([KINDS.index(a.kind) for a in self.articles], dtype=np.int64)
        products = sorted({a.product_sku for a in self.articles if a.product_sku})
        # -1: an article for every product, which no other version supports.
        self._product = np.array(
            [products.index(a.product_sku) if a.product_sku else -1 for a in self.articles], dtype=np.int64
        )
        self._products = len(products)
        if embedder is not None and self.articles:
            self.vectors = self._encode(cache if cache is not None else {})
        else:
            self.vectors = None

    def _encode(self, cache: dict) -> np.ndarray:
        """Passage vectors, encoding only the versions not in `cache` (keyed by id, language, version)."""
        keys = [(a.id, a.language, a.version) for a in self.articles]
        missing = [i for i, key in enumerate(keys) if key not in cache]
        if missing:
            for i, vector in zip(
                missing, self.embedder.passages([self.articles[i].text for i in missing]), strict=True
            ):
                cache[keys[i]] = vector
        return np.stack([cache[key] for key in keys])

    def _intent(self, query_vector: np.ndarray) -> np.ndarray:
        """How much more the question asks what each version's kind answers than the other kinds, in spreads."""
        if self.embedder not in _intent_vectors:
            _intent_vectors[self.embedder] = np.asarray(
                self.embedder.passages([KIND_INTENTS[kind] for kind in KINDS]), dtype=np.float32
            )
        affinity = _intent_vectors[self.embedder] @ query_vector
        return ((affinity - affinity.mean()) / (affinity.std() + 1e-6))[self._kind]

    def _with_product(self, scores: np.ndarray) -> np.ndarray:
        """Each version of a product scored mostly as its product's best version; others as they are."""
        best = np.full(self._products, -np.inf)
        of_product = self._product >= 0
        np.maximum.at(best, self._product[of_product], scores[of_product])
        supported = PRODUCT_WEIGHT * best[np.maximum(self._product, 0)] + (1 - PRODUCT_WEIGHT) * scores
        return np.where(of_product, supported, scores)

    def _within_language(self, cosines: np.ndarray) -> np.ndarray:
        counts = np.bincount(self._language)
        mean = np.bincount(self._language, weights=cosines) / counts
        spread = np.sqrt(np.maximum(np.bincount(self._language, weights=cosines**2) / counts - mean**2, 0))
        own = (cosines - mean[self._language]) / (spread[self._language] + 1e-6)
        overall = (cosines - cosines.mean()) / (cosines.std() + 1e-6)
        return np.where(self._own_group, own, overall)

    def _scores(self, query: str, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
        """A score for every version, higher is better, and the model's cosines when it was asked."""
        lexical = np.zeros(len(self.articles))
        if mode in ("bm25", "hybrid"):
            raw = self.lexical.get_scores(tokens(query) or ["_"])
            if raw.max() > 0:
                lexical = raw / raw.max()
        if mode == "bm25" or self.vectors is None:
            return lexical, None
        query_vector = self.embedder.queries([query])[0]
        cosines = self.vectors @ query_vector
        if mode == "dense":
            return cosines, cosines
        fused = self._within_language(cosines) + LEXICAL_WEIGHT * lexical
        return self._with_product(fused) + INTENT_WEIGHT * self._intent(query_vector), cosines

    def search(
        self, query: str, *, language: str, product_sku: str = "", limit: int = 5, mode: str = "hybrid"
    ) -> list[Hit]:
        if not self.articles:
            return []
        scores, cosines = self._scores(query, mode)
        order = np.argsort(-scores, kind="stable")
        if cosines is None:
            order = order[scores[order] > 0]  # words alone: a version sharing none is no hit
        best: dict[str, int] = {}
        for position in order:
            article = self.articles[position]
            if product_sku and article.product_sku not in ("", product_sku):
                continue
            if article.id not in best:
                best[article.id] = int(position)
                if len(best) == limit:
                    break
        top = float(scores[next(iter(best.values()))]) if best else 0.0
        hits = []
        for position in best.values():
            matched = self.articles[position]
            shown = self.by_key.get((matched.id, language), matched)
            hits.append(
                Hit(
                    article=shown,
                    # Relative to the best hit: 1.0 for it, less for the others.
                    score=round(max(float(scores[position]), 0.0) / top, 4) if top > 0 else 0.0,
                    similarity=float(cosines[position]) if cosines is not None else 0.0,
                    other_language=shown.language != language,
                )
            )
        return hits
